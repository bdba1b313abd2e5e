// List-then-watch of MemoryScalers against the API stand-in: initial list, spec changes notify,
// status-only updates do not, bookmarks advance the resourceVersion, 410 Gone asks for a relist.
// Integration (a subprocess, real HTTP watch streams); the unit version is informer_test.cc.
#include <catch2/catch.hpp>

#include "controller/standin_fixture.h"
#include "controller/test_objects.h"
#include "oomcast/controller/informer.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;
using oomcast::testing::StandinFixture;
using testing::NamedScaler;

TEST_CASE("informer: list, watch, notify on spec changes only, relist on 410") {
  StandinFixture fx;
  fx.Seed(NamedScaler("a", "one"));
  fx.Seed(NamedScaler("b", "two"));
  std::vector<std::string> changes;
  ScalerInformer informer(fx.client(), fx.clock(), "",
                          [&](const std::string& ns, const std::string& name, bool deleted) {
                            changes.push_back(ns + "/" + name + (deleted ? " deleted" : ""));
                          });
  REQUIRE(informer.List().ok());
  CHECK(informer.synced());
  CHECK(informer.Snapshot().size() == 2);
  CHECK(changes == std::vector<std::string>{"a/one", "b/two"});
  changes.clear();
  std::string rv0 = informer.resource_version();

  // A status-only write and a spec change, then a watch from the list's resourceVersion.
  const std::string path = "/apis/oomcast.io/v1alpha1/namespaces/a/memoryscalers/one";
  json one = fx.Get(path);
  one["status"] = {{"currentReplicas", 2}};
  fx.Call("PUT", path + "/status", one);
  one = fx.Get(path);
  one["spec"]["maxReplicas"] = 7;
  fx.Call("PUT", path, one);
  fx.Call("DELETE", "/apis/oomcast.io/v1alpha1/namespaces/b/memoryscalers/two");
  std::atomic<bool> stop{false};
  REQUIRE(informer.WatchOnce(2, stop).ok());  // Ends at its timeout (bookmarks meanwhile).
  CHECK(changes == std::vector<std::string>{"a/one", "b/two deleted"});
  auto snap = informer.Snapshot();
  REQUIRE(snap.size() == 1);
  CHECK(json::parse(snap[0])["spec"]["maxReplicas"] == 7);
  CHECK(json::parse(snap[0])["status"]["currentReplicas"] == 2);
  CHECK(std::stoll(informer.resource_version()) > std::stoll(rv0));

  // Compaction: the next watch from our resourceVersion is Gone.
  fx.Call("POST", "/_standin/compact", json::object());
  Status gone = informer.WatchOnce(2, stop);
  CHECK(gone.code() == StatusCode::kAborted);
  REQUIRE(informer.List().ok());
  CHECK(informer.WatchOnce(1, stop).ok());
}

}  // namespace
}  // namespace oomcast::controller
