// Starts the Kubernetes API stand-in (kube_standin.py) as a child process for C++ tests and
// stops it when destroyed, also when a test fails. Loopback only, port chosen by the kernel.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace oomcast::testing {

inline std::string SourceDir() {
  const char* env = std::getenv("OOMCAST_SOURCE_DIR");
  return env != nullptr ? env : ".";
}

class StandinProcess {
 public:
  // `args` are extra flags of kube_standin.py (e.g. "--http", "--token", "t").
  explicit StandinProcess(std::vector<std::string> args = {}) {
    char tmpl[] = "/tmp/oomcast-standin-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::string script = SourceDir() + "/tests/support/kube_standin/kube_standin.py";
    std::vector<std::string> argv = {"python3",          script,
                                     "--port-file",      dir_ + "/port",
                                     "--kubeconfig-out", dir_ + "/kubeconfig",
                                     "--ca-out",         dir_ + "/ca.crt"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      execvp("python3", cargv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(dir_ + "/port");
      if (in >> port_) break;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("kube stand-in exited at start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) {
      Stop();
      throw std::runtime_error("kube stand-in did not start within 30 s");
    }
  }
  ~StandinProcess() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  StandinProcess(const StandinProcess&) = delete;
  StandinProcess& operator=(const StandinProcess&) = delete;

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string kubeconfig() const { return dir_ + "/kubeconfig"; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace oomcast::testing
