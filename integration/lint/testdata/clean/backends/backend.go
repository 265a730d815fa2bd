// Package backends is a lint fixture.
package backends
