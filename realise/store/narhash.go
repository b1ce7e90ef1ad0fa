package store

// HashPath computes the hash of the NAR serialisation of the tree at path and
// the NAR's size, as Nix does for recursive (NAR) hashing.
func HashPath(algo HashAlgorithm, path string, filter PathFilter) (Hash, int64, error) {
	hasher := algo.New()
	size, err := DumpPath(hasher, path, filter)
	if err != nil {
		return Hash{}, size, err
	}
	return hashFromSum(algo, hasher.Sum(nil)), size, nil
}

// HashNARBytes is the hash of DumpBytes(contents) without materialising it.
func HashNARBytes(algo HashAlgorithm, contents []byte) Hash {
	hasher := algo.New()
	DumpBytes(hasher, contents) // writing to a hash cannot fail
	return hashFromSum(algo, hasher.Sum(nil))
}
