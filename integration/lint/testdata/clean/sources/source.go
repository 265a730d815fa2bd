// Package sources is a lint fixture.
package sources
