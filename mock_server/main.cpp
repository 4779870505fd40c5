// ssebench-mock-server: parses the command line, loads the recordings, serves until a signal.
#include <boost/system/system_error.hpp>
#include <cctype>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>

#include "ssebench/recording.hpp"
#include "ssebench/server/config.hpp"
#include "ssebench/server/server.hpp"

int main(int argc, char** argv) {
  namespace srv = ssebench::server;
  const srv::ParsedArgs args = srv::parse_args(argc, argv);
  if (!args.config) {
    (args.exit_code == 0 ? std::cout : std::cerr) << args.message << (args.exit_code ? "\n" : "");
    return args.exit_code;
  }
  const srv::Config& config = *args.config;
  srv::raise_fd_limit();
  std::error_code ec;
  if (!std::filesystem::is_directory(config.recordings, ec)) {
    std::cerr << "ssebench-mock-server: " << config.recordings.string()
              << ": recordings folder not found\n";
    return 1;
  }
  // A bad recording is reported, one line each, and skipped: the good ones are still served.
  const ssebench::FolderLoad folder = ssebench::load_folder(config.recordings);
  for (const std::string& error : folder.errors) std::cerr << error << '\n';
  try {
    srv::Server server(config, folder.recordings);
    for (const std::string& error : server.load_errors()) std::cerr << error << '\n';
    for (const std::string& error : server.set_errors()) std::cerr << error << '\n';
    server.handle_signals();
    std::cout << "listening on " << server.url() << std::endl;  // the first line, flushed
    if (config.tls_port) std::cout << "listening on " << server.tls_url() << std::endl;
    std::cerr << "serving " << folder.recordings.size() - server.load_errors().size()
              << " recordings from " << config.recordings.string() << '\n';
    server.run();
  } catch (const boost::system::system_error& e) {
    // Boost throws these from the listening socket (open, bind, listen): one line, not Boost's
    // "bind: Address already in use [system:98 at /usr/include/boost/asio/...]".
    std::string why = e.code().message();
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    const bool v6 = config.bind_address.find(':') != std::string::npos;
    std::cerr << "ssebench-mock-server: cannot listen on " << (v6 ? "[" : "") << config.bind_address
              << (v6 ? "]:" : ":") << config.port << ": " << why << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ssebench-mock-server: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
