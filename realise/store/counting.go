package store

import "io"

// CountingWriter passes writes on to W and counts the bytes written: the
// size of a NAR or file while it is hashed or stored.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
