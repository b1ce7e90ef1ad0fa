#!/bin/sh
# Builder source for the input-srcs case of cases.nix; it is only hashed
# into the store, never run.
echo "building $name" > "$out"
