// oomcast e2e workload: grows real anonymous memory along a chosen shape until the kernel's OOM
// killer (the memory cgroup's limit) ends it, or plateaus below the limit.
//
// Usage: workload MODE [key=value ...]
//   MODE: steady | accel | stair | sawtooth_leak | sawtooth | plateau
//   base_mib=16      memory held from the start (MiB)
//   rate_mib=0.5     steady / stair / sawtooth_leak: growth of the trend or floor (MiB/s)
//   v0_mib=0.15      accel: initial growth (MiB/s)
//   accel_mib=0.002  accel: acceleration (MiB/s^2)
//   step_mib=8       stair: height of a step (MiB)
//   step_s=15        stair: seconds between steps
//   amp_mib=40       sawtooth*: heap growth within one cycle before it is collected (MiB)
//   period_s=20      sawtooth*: seconds from one collection to the next
//   plateau_mib=72   plateau: memory added by the warm-up (MiB)
//   tau_s=45         plateau: time constant of the warm-up (s)
//   jitter_mib=0.5   deterministic noise added to every target (MiB)
//   duration_s=900   exit 0 after this many seconds (bounded run)
//   store=anon       anon: anonymous memory; shm: a tmpfs file (see below)
//   shm_dir=/dev/shm store=shm: the tmpfs directory of the file
//
// Memory is held in 1 MiB anonymous mappings that are fully written (memset), so it is real
// resident anonymous memory charged to the process's memory cgroup; "collected" heap is returned
// to the kernel with munmap. With store=shm it is held instead in a file on tmpfs (/dev/shm),
// unlinked at once (the kernel frees it when the process dies): each 1 MiB is written through a
// shared mapping that is unmapped again, so the pages are shmem charged to the memory cgroup
// (what the OOM killer counts, and the working set) but never anonymous memory: cAdvisor's
// container_memory_rss does not see them. "Collected" memory is punched out of the file. Every second a line "t=<s> target_mib=<n> held_mib=<n>" is printed.
// Exit: 0 after duration_s; killed by SIGKILL when the cgroup runs out of memory.
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define kChunkBytes (1024L * 1024L)
#define kMaxChunks 65536

static void* chunks[kMaxChunks];
static long held = 0;
static int shm_fd = -1;  // store=shm: the unlinked tmpfs file holding the memory.

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double Param(int argc, char** argv, const char* key, double fallback) {
  size_t n = strlen(key);
  for (int i = 2; i < argc; ++i) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return atof(argv[i] + n + 1);
  }
  return fallback;
}

// Deterministic noise in [-1, 1] for a given tick (no time or randomness dependence).
static double Noise(long tick) {
  unsigned long x = (unsigned long)tick * 2654435761UL + 12345UL;
  x ^= x >> 13;
  x *= 0x5bd1e995UL;
  x ^= x >> 15;
  return (double)(x % 2001UL) / 1000.0 - 1.0;
}

static const char* StrParam(int argc, char** argv, const char* key, const char* fallback) {
  size_t n = strlen(key);
  for (int i = 2; i < argc; ++i) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  }
  return fallback;
}

static void OpenShm(const char* dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/oomcast-e2e-%ld", dir, (long)getpid());
  shm_fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (shm_fd < 0) {
    perror("open shm file");
    exit(3);
  }
  unlink(path);  // Freed by the kernel with the last descriptor: nothing left after a kill.
}

static void GrowShm(void) {
  const off_t at = (off_t)held * kChunkBytes;
  if (ftruncate(shm_fd, at + kChunkBytes) != 0) {
    perror("ftruncate");
    exit(3);
  }
  void* p = mmap(NULL, kChunkBytes, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, at);
  if (p == MAP_FAILED) {
    perror("mmap shm");
    exit(3);
  }
  memset(p, 0xA5, kChunkBytes);  // Page faults allocate shmem charged to the cgroup.
  munmap(p, kChunkBytes);        // The pages stay in the file, mapped by nobody.
  ++held;
}

static void ShrinkShm(void) {
  if (held == 0) return;
  --held;
  if (ftruncate(shm_fd, (off_t)held * kChunkBytes) != 0) {
    perror("ftruncate");
    exit(3);
  }
}

static void Grow(void) {
  if (held >= kMaxChunks) return;
  if (shm_fd >= 0) {
    GrowShm();
    return;
  }
  void* p = mmap(NULL, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(3);
  }
  memset(p, 0xA5, kChunkBytes);  // touch every page: real RSS
  chunks[held++] = p;
}

static void Shrink(void) {
  if (shm_fd >= 0) {
    ShrinkShm();
    return;
  }
  if (held == 0) return;
  munmap(chunks[--held], kChunkBytes);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: workload MODE [key=value ...]\n");
    return 2;
  }
  const char* mode = argv[1];
  double base = Param(argc, argv, "base_mib", 16);
  double rate = Param(argc, argv, "rate_mib", 0.5);
  double v0 = Param(argc, argv, "v0_mib", 0.15);
  double accel = Param(argc, argv, "accel_mib", 0.002);
  double step = Param(argc, argv, "step_mib", 8);
  double step_s = Param(argc, argv, "step_s", 15);
  double amp = Param(argc, argv, "amp_mib", 40);
  double period = Param(argc, argv, "period_s", 20);
  double plateau = Param(argc, argv, "plateau_mib", 72);
  double tau = Param(argc, argv, "tau_s", 45);
  double jitter = Param(argc, argv, "jitter_mib", 0.5);
  double duration = Param(argc, argv, "duration_s", 900);
  const char* store = StrParam(argc, argv, "store", "anon");
  if (strcmp(store, "shm") == 0) {
    OpenShm(StrParam(argc, argv, "shm_dir", "/dev/shm"));
  } else if (strcmp(store, "anon") != 0) {
    fprintf(stderr, "workload: unknown store \"%s\" (anon or shm)\n", store);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  double start = Now();
  long tick = 0;
  long last_report = -1;
  for (;;) {
    double t = Now() - start;
    if (t >= duration) break;
    double target;
    if (strcmp(mode, "steady") == 0) {
      target = base + rate * t;
    } else if (strcmp(mode, "accel") == 0) {
      target = base + v0 * t + accel * t * t;
    } else if (strcmp(mode, "stair") == 0) {
      target = base + step * floor(t / step_s);
    } else if (strcmp(mode, "sawtooth_leak") == 0 || strcmp(mode, "sawtooth") == 0) {
      // The heap grows linearly for 80% of the period, then it is collected and stays there
      // until the next cycle. sawtooth_leak's floor rises at rate_mib (what the GC cannot free).
      double phase = fmod(t, period) / period;
      double heap = phase < 0.8 ? amp * phase / 0.8 : 0.0;
      double floor_mib = base + (strcmp(mode, "sawtooth_leak") == 0 ? rate * t : 0.0);
      target = floor_mib + heap;
    } else if (strcmp(mode, "plateau") == 0) {
      target = base + plateau * (1.0 - exp(-t / tau));
    } else {
      fprintf(stderr, "workload: unknown mode \"%s\"\n", mode);
      return 2;
    }
    target += jitter * Noise(tick);
    if (target < 1) target = 1;
    long want = (long)target;
    while (held < want) Grow();
    while (held > want) Shrink();
    long second = (long)t;
    if (second != last_report) {
      printf("t=%ld target_mib=%.1f held_mib=%ld\n", second, target, held);
      last_report = second;
    }
    ++tick;
    usleep(100000);  // 10 adjustments per second
  }
  return 0;
}
