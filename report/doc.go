// Package report turns finished sampler runs into tables, plots and HTML
// pages. It reads the files that sampler nodes write (result.json and
// trace.csv) and never writes into their run directories. The plot node
// kinds that call it write into their own run directories, and the report
// command copies the images from there into the report folder.
//
// Nouns:
//   - summary: the part of a sampler's result.json that tables and plots
//     read. Fields that an older or newer sampler does not write are nil.
//   - metrics: the numbers derived from a summary and the run's wall time:
//     work in full-data equivalents (FDE), ESS per second and per FDE,
//     the work-normalized variance (WNV, SE² × seconds or × FDE, which is
//     sd²/ESS × work) and the sampler's health signals.
//   - flag: a reason to doubt an estimate, such as R̂ > 1.01 or a low
//     ESS.
//   - trace: trace.csv of a sampler run, one row per chain and draw.
//   - table: named, typed columns with one row per sampler run, written
//     as CSV or Parquet.
//   - figure: one image (a PNG and an SVG of the same drawing) made of
//     one or more gonum plots.
//   - page: index.html of a report, or the page of one run.
package report
