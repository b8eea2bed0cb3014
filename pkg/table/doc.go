// Package table reads and writes tabular files: CSV, JSONL and Parquet
// readers and writers over local files, folders, or s3:// objects and
// prefixes; the cells, columns and tables they carry; and the encoding of
// rows into pieces that part files append and that join into one file.
package table
