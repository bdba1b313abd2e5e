// Leader election on the in-process API fake's Lease objects, with a FakeClock: acquire, renew,
// no take-over before expiry (measured on the candidate's own clock), take-over after expiry
// with leaseTransitions bumped, release hand-over, renew deadline, conflicts. Over HTTP against
// the Python stand-in, with schema validation: leader_election_standin_test.cc.
#include "oomcast/controller/leader_election.h"

#include <catch2/catch.hpp>

#include "controller/test_objects.h"
#include "support/fake_clock.h"
#include "support/fake_kube_client.h"

namespace oomcast::controller {
namespace {

using oomcast::testing::FakeClock;
using oomcast::testing::FakeKubeClient;
using testing::kLeasePath;
using testing::LeaseConfig;

TEST_CASE("leader election: acquire, renew, expire, take over, release") {
  FakeKubeClient kube;
  FakeClock clock;
  LeaderElector a(&kube, &clock, LeaseConfig("a"));
  LeaderElector b(&kube, &clock, LeaseConfig("b"));

  REQUIRE(a.TryAcquireOrRenew());
  CHECK(a.IsLeader());
  auto lease = kube.Get(kLeasePath);
  CHECK(lease["spec"]["holderIdentity"] == "a");
  CHECK(lease["spec"]["leaseDurationSeconds"] == 15);
  CHECK(lease["spec"]["leaseTransitions"] == 0);
  CHECK_FALSE(b.TryAcquireOrRenew());
  for (int i = 0; i < 20; ++i) {
    clock.Advance(2);
    REQUIRE(a.TryAcquireOrRenew());
    REQUIRE_FALSE(b.TryAcquireOrRenew());
  }
  CHECK(kube.Get(kLeasePath)["spec"]["renewTime"] != lease["spec"]["renewTime"]);

  clock.Advance(14);  // a stops renewing; b waits a full lease duration on its own clock.
  CHECK_FALSE(b.TryAcquireOrRenew());
  CHECK_FALSE(a.IsLeader());
  clock.Advance(1.5);
  REQUIRE(b.TryAcquireOrRenew());
  lease = kube.Get(kLeasePath);
  CHECK(lease["spec"]["holderIdentity"] == "b");
  CHECK(lease["spec"]["leaseTransitions"] == 1);
  CHECK_FALSE(a.TryAcquireOrRenew());

  REQUIRE(b.Release().ok());
  CHECK(kube.Get(kLeasePath)["spec"]["holderIdentity"] == "");
  clock.Advance(2);
  REQUIRE(a.TryAcquireOrRenew());
  CHECK(kube.Get(kLeasePath)["spec"]["leaseTransitions"] == 2);
}

TEST_CASE("leader election: a conflicting update means not renewed this round") {
  FakeKubeClient kube;
  FakeClock clock;
  LeaderElector a(&kube, &clock, LeaseConfig("a"));
  REQUIRE(a.TryAcquireOrRenew());
  kube.Race(kLeasePath, 1);
  clock.Advance(2);
  CHECK(a.TryAcquireOrRenew());  // Within the renew deadline.
  CHECK(kube.WritesTo("leases/oomcast-controller", "PUT").back().code == 409);
  clock.Advance(2);
  CHECK(a.TryAcquireOrRenew());
  CHECK(kube.WritesTo("leases/oomcast-controller", "PUT").back().code == 200);
}

TEST_CASE("leader election: API errors past the renew deadline step down") {
  FakeKubeClient kube;
  FakeClock clock;
  LeaderElector a(&kube, &clock, LeaseConfig("a"));
  REQUIRE(a.TryAcquireOrRenew());
  kube.Script({"", "leases", 503, "", "", 100, {}});
  clock.Advance(5);
  CHECK(a.TryAcquireOrRenew());
  clock.Advance(6);
  CHECK_FALSE(a.TryAcquireOrRenew());
  CHECK_FALSE(a.IsLeader());
}

TEST_CASE("leader election: MicroTime format") {
  CHECK(FormatMicroTime(1767225600.25) == "2026-01-01T00:00:00.250000Z");
}

}  // namespace
}  // namespace oomcast::controller
