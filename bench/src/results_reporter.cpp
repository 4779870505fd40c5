#include "ssebench/bench/results_reporter.hpp"

#include <fmt/format.h>

#include <iostream>
#include <stdexcept>

#include "ssebench/bench/result_file.hpp"

namespace ssebench::bench {

std::string with_fields(std::string_view json,
                        const std::vector<const std::vector<JsonField>*>& fields) {
  constexpr std::string_view key = "\"run_name\": ";
  std::string out;
  std::size_t entry = 0;
  std::size_t line_start = 0;
  while (line_start < json.size()) {
    std::size_t line_end = json.find('\n', line_start);
    line_end = line_end == std::string_view::npos ? json.size() : line_end + 1;
    const std::string_view line = json.substr(line_start, line_end - line_start);
    out += line;
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent != std::string_view::npos && line.substr(indent).starts_with(key)) {
      if (entry >= fields.size())
        throw std::logic_error("with_fields: more entries than cases were given");
      if (!line.ends_with(",\n"))  // Google Benchmark writes run_type and more after it
        throw std::logic_error("with_fields: run_name is not followed by another field");
      if (const std::vector<JsonField>* f = fields[entry])
        for (const JsonField& field : *f)
          out += fmt::format("{:{}}\"{}\": {},\n", "", indent, field.key, field.json);
      ++entry;
    }
    line_start = line_end;
  }
  if (entry != fields.size())
    throw std::logic_error(
        fmt::format("with_fields: {} entries for {} cases", entry, fields.size()));
  return out;
}

ResultsReporter::ResultsReporter(std::unique_ptr<benchmark::BenchmarkReporter> display,
                                 std::string json_path)
    : display_(std::move(display)), path_(std::move(json_path)) {
  if (!path_.empty()) {
    json_.SetOutputStream(&json_out_);
    json_.SetErrorStream(&std::cerr);
  }
}

void ResultsReporter::add_case(const std::string& name, std::vector<JsonField> fields) {
  fields_[name] = std::move(fields);
}

bool ResultsReporter::ReportContext(const Context& context) {
  const bool ok = display_->ReportContext(context);
  if (!path_.empty()) {
    json_.ReportContext(context);
    text_ += take_written();
    commit();
  }
  return ok;
}

void ResultsReporter::ReportRuns(const std::vector<Run>& runs) {
  std::vector<Run> kept;
  for (const Run& r : runs)
    if (!(r.error_occurred && r.error_message == not_run_marker)) kept.push_back(r);
  if (kept.empty()) return;
  display_->ReportRuns(kept);
  if (path_.empty()) return;
  json_.ReportRuns(kept);
  std::vector<const std::vector<JsonField>*> fields;
  for (const Run& r : kept) {
    const auto it = fields_.find(r.run_name.function_name);
    fields.push_back(it == fields_.end() ? nullptr : &it->second);
  }
  text_ += with_fields(take_written(), fields);
  commit();
}

void ResultsReporter::Finalize() {
  display_->Finalize();
  if (!path_.empty()) {
    json_.Finalize();
    text_ += take_written();
    finalized_ = true;
    commit();
  }
}

std::string ResultsReporter::take_written() {
  std::string s = json_out_.str();
  json_out_.str("");
  return s;
}

void ResultsReporter::commit() {
  std::string text = text_;
  if (!finalized_) text += "\n  ]\n}\n";  // what JSONReporter::Finalize writes
  if (!interrupted_.empty()) {
    constexpr std::string_view context_open = "\"context\": {\n";
    if (const auto at = text.find(context_open); at != std::string::npos) {
      std::string note;
      for (char c : interrupted_)
        if (c != '"' && c != '\\') note += c;
      text.insert(at + context_open.size(), fmt::format("    \"interrupted\": \"{}\",\n", note));
    }
  }
  std::string error;
  if (!write_file_atomically(path_, text, error) && !write_failed_) {
    write_failed_ = true;
    fmt::print(stderr, "ssebench-bench: cannot write the results: {}\n", error);
  }
}

std::string histograms_path_for(const std::string& json_path) {
  if (json_path.empty()) return "";
  const std::string_view ext = ".json";
  const std::string stem =
      json_path.ends_with(ext) ? json_path.substr(0, json_path.size() - ext.size()) : json_path;
  return stem + ".histograms.json";
}

std::string histograms_json(const CaseHistograms& histograms) {
  std::string text = fmt::format(R"({{"version":1,"unit":"ns","sub_bucket_bits":{},"cases":{{)",
                                 Histogram::sub_bucket_bits);
  bool first_case = true;
  for (const auto& [name, figures] : histograms) {
    text += fmt::format("{}\n\"{}\":{{", first_case ? "" : ",", name);
    first_case = false;
    bool first = true;
    for (const auto& [figure, h] : figures) {
      text += fmt::format("{}\"{}\":{}", first ? "" : ",", figure, h.to_json());
      first = false;
    }
    text += "}";
  }
  text += "\n}}\n";
  return text;
}

bool write_histograms(const std::string& path, const CaseHistograms& histograms) {
  if (path.empty()) return true;
  std::string error;
  if (write_file_atomically(path, histograms_json(histograms), error)) return true;
  fmt::print(stderr, "ssebench-bench: cannot write {}: {}\n", path, error);
  return false;
}

}  // namespace ssebench::bench
