package nixhash

import "fmt"

// nixBase32Alphabet omits e, o, u and t to make accidental words in hashes
// less likely.
const nixBase32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz"

// nixBase32Value maps a byte to its 5-bit digit, or -1 if it is not a digit.
var nixBase32Value = func() (table [256]int8) {
	for i := range table {
		table[i] = -1
	}
	for i := 0; i < len(nixBase32Alphabet); i++ {
		table[nixBase32Alphabet[i]] = int8(i)
	}
	return table
}()

// Base32EncodedLen is the length of the nixbase32 encoding of n bytes.
func Base32EncodedLen(n int) int {
	if n == 0 {
		return 0
	}
	return (n*8-1)/5 + 1
}

// IsBase32Digit reports whether c belongs to the nixbase32 alphabet.
func IsBase32Digit(c byte) bool {
	return nixBase32Value[c] >= 0
}

// EncodeBase32 encodes b in Nix's base-32. Unlike RFC 4648, Nix treats the
// input as one little-endian number and prints its 5-bit groups from the most
// significant end, without padding.
func EncodeBase32(b []byte) string {
	return string(AppendBase32(make([]byte, 0, Base32EncodedLen(len(b))), b))
}

// AppendBase32 appends the nixbase32 encoding of b to dst.
func AppendBase32(dst, b []byte) []byte {
	if len(b)%5 == 0 {
		return appendBase32Groups(dst, b)
	}
	n := Base32EncodedLen(len(b))
	for i := range n {
		// Character i (from the left) holds bits starting at this offset.
		bit := (n - 1 - i) * 5
		byteIndex, shift := bit/8, uint(bit%8)
		v := uint(b[byteIndex]) >> shift
		if byteIndex+1 < len(b) {
			v |= uint(b[byteIndex+1]) << (8 - shift)
		}
		dst = append(dst, nixBase32Alphabet[v&0x1f])
	}
	return dst
}

// appendBase32Groups is AppendBase32 for a whole number of 5-byte
// groups (a store path's 20-byte hash is four): each group is 40 bits of
// the number, eight digits, the most significant group first, so no
// digit straddles two groups.
func appendBase32Groups(dst, b []byte) []byte {
	var out [8]byte
	for g := len(b) - 5; g >= 0; g -= 5 {
		v := uint64(b[g]) | uint64(b[g+1])<<8 | uint64(b[g+2])<<16 | uint64(b[g+3])<<24 | uint64(b[g+4])<<32
		for j := range out {
			out[j] = nixBase32Alphabet[v>>(35-5*j)&0x1f]
		}
		dst = append(dst, out[:]...)
	}
	return dst
}

// DecodeBase32 decodes a nixbase32 string. The decoded length is implied by
// the string length; lengths that no byte count encodes to, characters
// outside the alphabet, and set bits beyond the last byte are errors.
func DecodeBase32(s string) ([]byte, error) {
	n := len(s) * 5 / 8
	if Base32EncodedLen(n) != len(s) {
		return nil, fmt.Errorf("invalid nixbase32 string %q: length %d is not the encoding of a whole number of bytes", s, len(s))
	}
	out := make([]byte, n)
	for i := 0; i < len(s); i++ {
		digit := nixBase32Value[s[len(s)-1-i]]
		if digit < 0 {
			return nil, fmt.Errorf("invalid nixbase32 string %q: invalid character %q", s, s[len(s)-1-i])
		}
		bit := i * 5
		byteIndex, shift := bit/8, uint(bit%8)
		out[byteIndex] |= byte(uint(digit) << shift)
		carry := uint(digit) >> (8 - shift)
		if byteIndex+1 < n {
			out[byteIndex+1] |= byte(carry)
		} else if carry != 0 {
			return nil, fmt.Errorf("invalid nixbase32 string %q: encodes more than %d bytes", s, n)
		}
	}
	return out, nil
}
