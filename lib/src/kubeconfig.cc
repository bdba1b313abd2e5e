// Connection settings: in-cluster service account and kubeconfig files (yaml-cpp).
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "oomcast/kube_client.h"

namespace oomcast {
namespace {

StatusOr<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Standard base64 (kubeconfig *-data fields). Whitespace is ignored.
StatusOr<std::string> Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') break;
    int v = value(c);
    if (v < 0) return InvalidArgumentError("invalid base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts).
std::optional<YAML::Node> FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return std::nullopt;
}

std::string Str(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap() || !node[key] || node[key].IsNull()) return "";
  return node[key].as<std::string>();
}

std::string Resolve(const std::filesystem::path& base_dir, const std::string& p) {
  if (p.empty()) return p;
  std::filesystem::path path(p);
  if (path.is_absolute()) return p;
  return (base_dir / path).string();
}

}  // namespace

StatusOr<KubeRestConfig> LoadInClusterConfig(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return FailedPreconditionError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  KubeRestConfig config;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal.
  config.server = "https://" + h + ":" + port;
  config.bearer_token_file = sa_dir + "/token";
  if (!std::filesystem::exists(config.bearer_token_file)) {
    return FailedPreconditionError("in-cluster config: no service account token at " +
                                   config.bearer_token_file);
  }
  config.ca_file = sa_dir + "/ca.crt";
  if (!std::filesystem::exists(config.ca_file)) {
    return FailedPreconditionError("in-cluster config: no CA at " + config.ca_file);
  }
  auto ns = ReadFileText(sa_dir + "/namespace");
  if (ns.ok() && !Trim(*ns).empty()) config.namespace_name = Trim(*ns);
  return config;
}

StatusOr<KubeRestConfig> LoadKubeconfig(const std::string& path_in, const std::string& context) {
  std::string path = path_in;
  if (path.empty()) {
    const char* env = std::getenv("KUBECONFIG");
    if (env != nullptr && *env != '\0') {
      path = env;
      size_t colon = path.find(':');  // First file of a list.
      if (colon != std::string::npos) path = path.substr(0, colon);
    } else {
      const char* home = std::getenv("HOME");
      path = std::string(home ? home : "") + "/.kube/config";
    }
  }
  auto text = ReadFileText(path);
  if (!text.ok()) return InvalidArgumentError("kubeconfig: " + text.status().message());
  const std::filesystem::path base_dir = std::filesystem::path(path).parent_path();
  const std::string where = "kubeconfig " + path + ": ";
  try {
    const YAML::Node root = YAML::Load(*text);
    if (!root.IsMap()) return InvalidArgumentError(where + "not a YAML mapping");
    std::string ctx_name = context.empty() ? Str(root, "current-context") : context;
    if (ctx_name.empty()) return InvalidArgumentError(where + "current-context is not set");
    auto ctx_entry = FindNamed(root["contexts"], ctx_name);
    if (!ctx_entry) return InvalidArgumentError(where + "contexts: no context named " + ctx_name);
    const YAML::Node ctx = (*ctx_entry)["context"];
    std::string cluster_name = Str(ctx, "cluster");
    auto cluster_entry = FindNamed(root["clusters"], cluster_name);
    if (!cluster_entry) {
      return InvalidArgumentError(where + "clusters: no cluster named \"" + cluster_name +
                                  "\" (context " + ctx_name + ")");
    }
    const YAML::Node cluster = (*cluster_entry)["cluster"];
    KubeRestConfig config;
    config.server = Str(cluster, "server");
    if (config.server.empty()) {
      return InvalidArgumentError(where + "clusters[" + cluster_name + "].cluster.server is empty");
    }
    config.ca_file = Resolve(base_dir, Str(cluster, "certificate-authority"));
    if (std::string data = Str(cluster, "certificate-authority-data"); !data.empty()) {
      auto pem = Base64Decode(data);
      if (!pem.ok()) {
        return InvalidArgumentError(where + "clusters[" + cluster_name +
                                    "].cluster.certificate-authority-data: invalid base64");
      }
      config.ca_pem = *pem;
    }
    config.insecure_skip_verify = Str(cluster, "insecure-skip-tls-verify") == "true";
    std::string ns = Str(ctx, "namespace");
    if (!ns.empty()) config.namespace_name = ns;

    std::string user_name = Str(ctx, "user");
    if (!user_name.empty()) {
      auto user_entry = FindNamed(root["users"], user_name);
      if (!user_entry) {
        return InvalidArgumentError(where + "users: no user named \"" + user_name + "\"");
      }
      const YAML::Node user = (*user_entry)["user"];
      const std::string uw = where + "users[" + user_name + "].user.";
      config.client_cert_file = Resolve(base_dir, Str(user, "client-certificate"));
      config.client_key_file = Resolve(base_dir, Str(user, "client-key"));
      if (std::string d = Str(user, "client-certificate-data"); !d.empty()) {
        auto pem = Base64Decode(d);
        if (!pem.ok()) return InvalidArgumentError(uw + "client-certificate-data: invalid base64");
        config.client_cert_pem = *pem;
      }
      if (std::string d = Str(user, "client-key-data"); !d.empty()) {
        auto pem = Base64Decode(d);
        if (!pem.ok()) return InvalidArgumentError(uw + "client-key-data: invalid base64");
        config.client_key_pem = *pem;
      }
      config.bearer_token = Str(user, "token");
      config.bearer_token_file = Resolve(base_dir, Str(user, "tokenFile"));
      if (user && user.IsMap() && user["exec"]) {
        return InvalidArgumentError(uw + "exec: credential plugins are not supported");
      }
      bool has_cert = !config.client_cert_file.empty() || !config.client_cert_pem.empty();
      bool has_key = !config.client_key_file.empty() || !config.client_key_pem.empty();
      if (has_cert != has_key) {
        return InvalidArgumentError(uw + "client-certificate and client-key must be set together");
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(where + e.what());
  }
}

}  // namespace oomcast
