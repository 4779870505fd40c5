// The results file: each case's fields in every entry of it, valid JSON after every case.
#include "ssebench/bench/results_reporter.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "../temp_dir.hpp"

namespace ssebench::bench {
namespace {

namespace json = boost::json;

benchmark::BenchmarkReporter::Run run_of(const std::string& name, int repetition,
                                         std::string aggregate = "") {
  benchmark::BenchmarkReporter::Run r;
  r.run_name.function_name = name;
  r.family_index = 0;
  r.per_family_instance_index = 0;
  r.repetition_index = repetition;
  r.repetitions = 2;
  r.real_accumulated_time = 0.5;
  r.counters["streams"] = 4;
  if (!aggregate.empty()) {
    r.run_type = benchmark::BenchmarkReporter::Run::RT_Aggregate;
    r.aggregate_name = std::move(aggregate);
  }
  return r;
}

json::value read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST(ResultsReporter, FieldsFollowTheRunNameAtItsIndentation) {
  const std::string text =
      "    {\n      \"name\": \"a_mean\",\n      \"run_name\": \"a\",\n      \"run_type\": "
      "\"aggregate\"\n    }";
  const std::vector<JsonField> f = {{"transport", "\"sse\""}, {"rate", "null"}};
  EXPECT_EQ(with_fields(text, {&f}),
            "    {\n      \"name\": \"a_mean\",\n      \"run_name\": \"a\",\n"
            "      \"transport\": \"sse\",\n      \"rate\": null,\n"
            "      \"run_type\": \"aggregate\"\n    }");
  EXPECT_EQ(with_fields(text, {nullptr}), text);
  EXPECT_THROW(with_fields(text, {&f, &f}), std::logic_error);
  EXPECT_THROW(with_fields(text + text, {&f}), std::logic_error);
}

TEST(ResultsReporter, EveryEntryOfACaseCarriesItsFieldsAndTheFileIsValidAfterEachCase) {
  test::TempDir dir;
  const auto path = dir.path() / "benchmark.json";
  std::ostringstream console;
  auto display = std::make_unique<benchmark::ConsoleReporter>();
  display->SetOutputStream(&console);
  display->SetErrorStream(&console);
  ResultsReporter results(std::move(display), path.string());
  CaseSpec sse;
  sse.recording = "r";
  CaseSpec poll = sse;
  poll.transport = Transport::poll;
  poll.interval_ms = 50;
  poll.shape = PollShape::delta;
  results.add_case(sse.name(), case_fields(sse));
  results.add_case(poll.name(), case_fields(poll));

  ASSERT_TRUE(results.ReportContext(benchmark::BenchmarkReporter::Context()));
  EXPECT_TRUE(read_json(path).at("benchmarks").as_array().empty());

  results.ReportRuns({run_of(sse.name(), 0), run_of(sse.name(), 1)});
  results.ReportRuns({run_of(sse.name(), 0, "mean")});
  // Written, complete, after the first case.
  json::array entries = read_json(path).at("benchmarks").as_array();
  ASSERT_EQ(entries.size(), 3u);
  for (const json::value& e : entries) {
    EXPECT_EQ(e.at("transport"), "sse");
    EXPECT_EQ(e.at("recording"), "r");
    EXPECT_EQ(e.at("concurrency"), 1);
    EXPECT_TRUE(e.at("shape").is_null());
    EXPECT_DOUBLE_EQ(e.at("streams").to_number<double>(), 4);
  }
  EXPECT_EQ(entries[2].at("run_type"), "aggregate");

  // A case not run (the interrupt) is left out; the context says the run was interrupted.
  auto not_run = run_of(poll.name(), 0);
  not_run.error_occurred = true;
  not_run.error_message = std::string(not_run_marker);
  results.mark_interrupted("SIGINT during case 2");
  results.ReportRuns({run_of(poll.name(), 0), not_run});
  results.Finalize();
  const json::value all = read_json(path);
  EXPECT_EQ(all.at("context").at("interrupted"), "SIGINT during case 2");
  entries = all.at("benchmarks").as_array();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[3].at("transport"), "poll");
  EXPECT_EQ(entries[3].at("interval_ms"), 50);
  EXPECT_EQ(entries[3].at("shape"), "delta");
  EXPECT_FALSE(results.write_failed());
}

TEST(ResultsReporter, HistogramsLiveBesideTheJson) {
  EXPECT_EQ(histograms_path_for("out/benchmark.json"), "out/benchmark.histograms.json");
  EXPECT_EQ(histograms_path_for("out/run"), "out/run.histograms.json");
  EXPECT_EQ(histograms_path_for(""), "");
  CaseHistograms h;
  h["sse/r/c:1"]["ttft_ms"].add_ms(1.5);
  const json::value v = json::parse(histograms_json(h));
  EXPECT_EQ(v.at("version"), 1);
  EXPECT_TRUE(v.at("cases").at("sse/r/c:1").as_object().contains("ttft_ms"));
}

}  // namespace
}  // namespace ssebench::bench
