// Package npy reads and writes NumPy .npy files of little-endian float64
// ('<f8') and int64 ('<i8') arrays in C (row-major) order, so that users
// can load llcflow's arrays with numpy.load.
//
// Nouns:
//   - preamble: the magic string "\x93NUMPY", a major and a minor version
//     byte and the header length (2 bytes in version 1.0, 4 in 2.0 and 3.0).
//   - header: a Python dict literal with the keys 'descr' (the dtype),
//     'fortran_order' and 'shape', padded with spaces and ended by a
//     newline so the data starts at a multiple of 64 bytes.
//   - shape: the array's dimensions, outermost first. An empty shape is a
//     scalar with one element.
//
// Writers produce version 1.0 files, and do so atomically: a reader sees the
// old file or the complete new one, never a partial write. Readers accept
// versions 1.0, 2.0 and 3.0 but only the two dtypes above in C order.
package npy
