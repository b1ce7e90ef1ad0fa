package builtins

import "strings"

// decodeBase16 decodes hexadecimal digits (either case) pairwise; a last
// odd digit is ignored. On a character that is not a digit it returns
// ok false (and a nil slice) with the character.
func decodeBase16(s string) (out []byte, bad byte, ok bool) {
	digit := func(c byte) int {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0')
		case 'a' <= c && c <= 'f':
			return int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			return int(c-'A') + 10
		}
		return -1
	}
	out = make([]byte, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		hi, lo := digit(s[i]), digit(s[i+1])
		if hi < 0 {
			return nil, s[i], false
		}
		if lo < 0 {
			return nil, s[i+1], false
		}
		out = append(out, byte(hi<<4|lo))
	}
	return out, 0, true
}

const base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeBase64 decodes standard base64 as Nix does: it stops at the
// first '=' and skips newlines. On any other character outside the
// alphabet it returns ok false (and a nil slice) with the character.
func decodeBase64(s string) (out []byte, bad byte, ok bool) {
	out = make([]byte, 0, len(s)*3/4)
	bits, acc := 0, uint(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		if c == '\n' {
			continue
		}
		d := strings.IndexByte(base64Digits, c)
		if d < 0 {
			return nil, c, false
		}
		acc = acc<<6 | uint(d)
		bits += 6
		if bits >= 8 {
			out = append(out, byte(acc>>(bits-8)))
			bits -= 8
		}
	}
	return out, 0, true
}
