// kubeconfig and in-cluster configuration loading.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "oomcast/kube_client.h"

namespace oomcast {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/oomcast-kubeconfig-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const char* kConfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: ca.crt
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    insecure-skip-tls-verify: false
users:
- name: dev-user
  user:
    token: abc123
- name: prod-user
  user:
    client-certificate: /etc/certs/client.crt
    client-key: /etc/certs/client.key
- name: data-user
  user:
    client-certificate-data: aGVsbG8=
    client-key-data: d29ybGQ=
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
- name: data
  context: {cluster: prod-cluster, user: data-user}
- name: broken
  context: {cluster: missing-cluster, user: dev-user}
)";

TEST_CASE("kubeconfig: current context, relative CA path, token, namespace") {
  TempDir dir;
  std::string path = dir.Write("config", kConfig);
  auto c = LoadKubeconfig(path);
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.0.0.1:6443");
  CHECK(c->ca_file == dir.path() + "/ca.crt");
  CHECK(c->bearer_token == "abc123");
  CHECK(c->namespace_name == "team-a");
  CHECK_FALSE(c->insecure_skip_verify);
}

TEST_CASE("kubeconfig: explicit context, client certificates, base64 data") {
  TempDir dir;
  std::string path = dir.Write("config", kConfig);
  auto prod = LoadKubeconfig(path, "prod");
  REQUIRE(prod.ok());
  CHECK(prod->server == "https://prod.example:443");
  CHECK(prod->ca_pem == "-----BEGIN CERTIFICATE-----\n");
  CHECK(prod->client_cert_file == "/etc/certs/client.crt");
  CHECK(prod->client_key_file == "/etc/certs/client.key");
  CHECK(prod->namespace_name == "default");
  auto data = LoadKubeconfig(path, "data");
  REQUIRE(data.ok());
  CHECK(data->client_cert_pem == "hello");
  CHECK(data->client_key_pem == "world");
}

TEST_CASE("kubeconfig: errors name the file and the key") {
  TempDir dir;
  std::string path = dir.Write("config", kConfig);
  auto broken = LoadKubeconfig(path, "broken");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().code() == StatusCode::kInvalidArgument);
  CHECK(broken.status().message().find(path) != std::string::npos);
  CHECK(broken.status().message().find("missing-cluster") != std::string::npos);
  auto nocontext = LoadKubeconfig(path, "nope");
  INFO(nocontext.status().message());
  CHECK(nocontext.status().message().find("no context named nope") != std::string::npos);
  CHECK_FALSE(LoadKubeconfig(dir.path() + "/absent").ok());
  std::string bad = dir.Write("bad", "clusters: [\n");
  auto r = LoadKubeconfig(bad);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find(bad) != std::string::npos);
  std::string exec = dir.Write("exec", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  CHECK(LoadKubeconfig(exec).status().message().find("exec") != std::string::npos);
}

TEST_CASE("kubeconfig: $KUBECONFIG is used when no path is given") {
  TempDir dir;
  std::string path = dir.Write("config", kConfig);
  setenv("KUBECONFIG", path.c_str(), 1);
  auto c = LoadKubeconfig("");
  unsetenv("KUBECONFIG");
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.0.0.1:6443");
}

TEST_CASE("in-cluster config: service account files and environment") {
  TempDir dir;
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  CHECK(LoadInClusterConfig(dir.path()).status().code() == StatusCode::kFailedPrecondition);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  CHECK(LoadInClusterConfig(dir.path()).status().code() == StatusCode::kFailedPrecondition);
  dir.Write("token", "tok\n");
  dir.Write("ca.crt", "pem");
  dir.Write("namespace", "oomcast-system\n");
  auto c = LoadInClusterConfig(dir.path());
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.96.0.1:443");
  CHECK(c->bearer_token_file == dir.path() + "/token");
  CHECK(c->ca_file == dir.path() + "/ca.crt");
  CHECK(c->namespace_name == "oomcast-system");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(LoadInClusterConfig(dir.path())->server == "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
}

}  // namespace
}  // namespace oomcast
