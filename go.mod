module github.com/vhdxview/vhdxview

go 1.26

require (
	github.com/google/uuid v1.6.0
	github.com/hack-pad/go-indexeddb v0.3.2
)

require github.com/hack-pad/safejs v0.1.0 // indirect
