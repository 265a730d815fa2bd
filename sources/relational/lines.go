package relational

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Both PostgreSQL's COPY text and MySQL's LOAD DATA text write one row per
// line, fields separated by tabs, with tabs, newlines and backslashes
// inside values escaped; so a row's fields are found by splitting at tabs,
// and equal escaped fields mean equal values.

// keyOf appends to dst the fields of line at positions key, separated by
// tabs, without the line's newline; with key nil it appends the whole row
// (a table without a primary key is keyed by its content).
func keyOf(dst, line []byte, key []int) []byte {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if key == nil {
		return append(dst, line...)
	}
	for i, k := range key {
		if i > 0 {
			dst = append(dst, '\t')
		}
		dst = append(dst, field(line, k)...)
	}
	return dst
}

// field returns the n-th tab-separated field of line (empty when the line
// has fewer).
func field(line []byte, n int) []byte {
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(line, '\t')
		if j < 0 {
			return nil
		}
		line = line[j+1:]
	}
	if j := bytes.IndexByte(line, '\t'); j >= 0 {
		return line[:j]
	}
	return line
}

// lineReader reads a data file line by line and knows each line's offset.
type lineReader struct {
	r   *bufio.Reader
	off int64 // offset of the byte after the last line returned
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next line with its '\n', valid until the next call, or
// io.EOF. A last line without '\n' is an error: every row ends in one.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lr.r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, fmt.Errorf("data file ends in an unterminated row at offset %d", lr.off)
		}
		return nil, err
	}
	lr.off += int64(len(line))
	return line, nil
}
