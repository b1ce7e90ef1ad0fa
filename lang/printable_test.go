package lang

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, tabs\tand\nnewlines": "plain text, tabs\tand\nnewlines",
		"\x1b[2J\x1b]0;title\x07":         "?[2J?]0;title?",
		"cr\rbs\bdel\x7f":                 "cr?bs?del?",
		"c1 \u009b31m":                    "c1 ??31m",
		"nul\x00 and \xff stay":           "nul\x00 and \xff stay",
		"héllo ∀ 😀":                       "héllo ∀ 😀",
	} {
		got := Printable(in)
		if got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		if len(got) != len(in) {
			t.Errorf("Printable(%q) changed the length (columns would shift)", in)
		}
	}
}
