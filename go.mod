module github.com/nixl-project/nixl

go 1.26.8

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/spf13/pflag v1.1.0
)
