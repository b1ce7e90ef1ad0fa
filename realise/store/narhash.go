package store

import "github.com/nixl-project/nixl/nixhash"

// HashPath computes the hash of the NAR serialisation of the tree at path and
// the NAR's size, as Nix does for recursive (NAR) hashing.
func HashPath(algo nixhash.Algorithm, path string, filter PathFilter) (nixhash.Hash, int64, error) {
	hasher := algo.New()
	size, err := DumpPath(hasher, path, filter)
	if err != nil {
		return nixhash.Hash{}, size, err
	}
	return nixhash.FromSum(algo, hasher.Sum(nil)), size, nil
}

// HashNARBytes is the hash of DumpBytes(contents) without materialising it.
func HashNARBytes(algo nixhash.Algorithm, contents []byte) nixhash.Hash {
	hasher := algo.New()
	DumpBytes(hasher, contents) // writing to a hash cannot fail
	return nixhash.FromSum(algo, hasher.Sum(nil))
}
