package eval

// SetLimitsForTest lowers the size limits and the stack budget, so that
// tests reach them cheaply; the function it returns restores them.
func SetLimitsForTest(strLen int, listLen int64, stack int) (restore func()) {
	s, l, c := maxStringLength, maxListLength, sizeCheckFrom
	maxStringLength, maxListLength, sizeCheckFrom = strLen, listLen, 1
	stackMu.Lock()
	prevStack := stackLimit
	if stack > 0 {
		stackLimit = stack
	}
	stackMu.Unlock()
	return func() {
		maxStringLength, maxListLength, sizeCheckFrom = s, l, c
		stackMu.Lock()
		stackLimit = prevStack
		stackMu.Unlock()
	}
}
