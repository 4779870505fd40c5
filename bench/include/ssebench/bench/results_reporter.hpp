#pragma once
/**
 * The run's result files: benchmark.json, rewritten atomically after every case with each case's
 * record fields in its entries, and the latency histograms beside it.
 */
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/bench/cases.hpp"
#include "ssebench/bench/histogram.hpp"

namespace ssebench::bench {

/** The error message of a case not run because the run was interrupted: left out of the JSON. */
inline constexpr std::string_view not_run_marker = "ssebench: not run (interrupted)";

/**
 * `json` (what JSONReporter::ReportRuns wrote for `fields.size()` runs, in order) with the n-th
 * entry's fields as lines of their own right after its "run_name" line, at its indentation.
 * Throws std::logic_error when the text holds another number of "run_name" lines.
 */
std::string with_fields(std::string_view json,
                        const std::vector<const std::vector<JsonField>*>& fields);

/**
 * The display reporter, which also keeps the JSON result (--benchmark_out, taken from Google
 * Benchmark, whose own writer opens the file at the start and completes it only at the end):
 * after the context and after every case, the JSON of what has finished so far is written to
 * a temporary name and renamed over the file, so that it is always complete and valid — after
 * an interrupt, a crash or a kill. An interrupted run's context says so ("interrupted"). Every
 * entry, iteration or aggregate, carries its case's fields (case_fields) beside its name.
 */
class ResultsReporter : public benchmark::BenchmarkReporter {
 public:
  /** `display` prints to the console; `json_path` empty: no JSON file. */
  ResultsReporter(std::unique_ptr<benchmark::BenchmarkReporter> display, std::string json_path);

  /** The fields of the case registered as `name` (Google Benchmark's function name). */
  void add_case(const std::string& name, std::vector<JsonField> fields);

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  /** From now on the JSON's context carries "interrupted": note. */
  void mark_interrupted(std::string note) { interrupted_ = std::move(note); }
  const std::string& path() const { return path_; }
  bool write_failed() const { return write_failed_; }

 private:
  /** What the JSON reporter wrote since the last call. */
  std::string take_written();
  void commit();

  std::unique_ptr<benchmark::BenchmarkReporter> display_;
  std::string path_;
  std::map<std::string, std::vector<JsonField>> fields_;  // by case name
  benchmark::JSONReporter json_;
  std::ostringstream json_out_;  // the JSON reporter's stream, emptied into text_
  std::string text_;             // the JSON so far, fields in
  bool finalized_ = false;
  bool write_failed_ = false;
  std::string interrupted_;
};

/** Every case's latency histograms by figure (repetitions merged), by case name. */
using CaseHistograms = std::map<std::string, std::map<std::string, Histogram>>;

/** benchmark.json -> benchmark.histograms.json: beside it, never one run's over another's.
 *  Empty for an empty path. */
std::string histograms_path_for(const std::string& json_path);

/** {"version":1,"unit":"ns","sub_bucket_bits":8,"cases":{NAME:{FIGURE:Histogram::to_json()}}}:
 *  scripts/merge_shards adds the buckets of several runs' files. */
std::string histograms_json(const CaseHistograms& histograms);

/** Writes histograms_json() atomically to `path` (nothing for an empty path); false with a line
 *  on stderr when it cannot. */
bool write_histograms(const std::string& path, const CaseHistograms& histograms);

}  // namespace ssebench::bench
