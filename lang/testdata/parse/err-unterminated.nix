{ a = "oops; }
