// Checks that the Dockerfile and scripts/setup.sh agree (no Docker engine runs here):
//  - the build stage is FROM debian:12, copies the sources and runs scripts/setup.sh, which
//    builds into the directory the Dockerfile then takes the binaries from;
//  - the runtime stage is FROM debian:12-slim, installs no compilers or -dev packages, copies
//    the three binaries to /usr/local/bin and runs as uid 65532;
//  - every shared library the binaries load comes from a package the runtime stage installs (or
//    that debian:12-slim has): from `ldd` of the binaries when a build tree has them, and from
//    the runtime counterpart of each -dev library that scripts/setup.sh installs in any case;
//  - .dockerignore keeps host build trees and tools out of the build context.
//
//   node check_dockerfile.mjs
//
// Exit status: 0 agree, 1 disagree (each problem printed), 2 I/O errors.
import { readFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.env.OOMCAST_SOURCE_DIR || join(here, "..", ".."));
const BINARIES = ["oomcast-predictor", "oomcast-metrics-adapter", "oomcast-controller"];
// In debian:12-slim already (essential or required by apt).
const BASE_PACKAGES = new Set(["libc6", "libgcc-s1", "libstdc++6", "zlib1g"]);
// Runtime package of each library (-dev package) scripts/setup.sh installs for the build. Boost:
// the components CMakeLists.txt finds (system, program_options).
const DEV_TO_RUNTIME = {
  "prometheus-cpp-dev": ["libprometheus-cpp-core1.0"],
  "libyaml-cpp-dev": ["libyaml-cpp0.7"],
  "libssl-dev": ["libssl3"],
  "zlib1g-dev": ["zlib1g"],
  "libboost-all-dev": ["libboost-system1.74.0", "libboost-program-options1.74.0"],
  "nlohmann-json3-dev": [], // header-only
  catch2: [], // tests only
  "libclang-rt-14-dev": [], // libFuzzer and sanitizers, tests only
};
const FORBIDDEN_RUNTIME = [/-dev$/, /^build-essential$/, /^cmake$/, /^g\+\+/, /^gcc/, /^clang/, /^nodejs$/, /^npm$/];

const problems = [];
const fail = (msg) => problems.push(msg);

function parseDockerfile(text) {
  // Join continuation lines, drop comments.
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const stages = [];
  for (const line of lines) {
    const m = line.match(/^([A-Za-z]+)\s+(.*)$/);
    if (!m) continue;
    const instr = m[1].toUpperCase();
    if (instr === "FROM") {
      const f = m[2].match(/^(\S+)(?:\s+AS\s+(\S+))?/i);
      stages.push({ image: f[1], name: f[2] ?? null, instrs: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instrs.push({ instr, args: m[2] });
    }
  }
  return stages;
}

function aptPackagesIn(runArgs) {
  const pkgs = [];
  for (const m of runArgs.matchAll(/apt-get\s+install\s+([^&;|]*)/g)) {
    for (const tok of m[1].split(/\s+/)) if (tok && !tok.startsWith("-")) pkgs.push(tok);
  }
  return pkgs;
}

function setupScriptFacts() {
  const path = join(root, "scripts", "setup.sh");
  if (!existsSync(path)) {
    fail("scripts/setup.sh does not exist");
    return { devPackages: [], buildDir: null };
  }
  if ((statSync(path).mode & 0o111) === 0) fail("scripts/setup.sh is not executable (the Dockerfile runs it directly)");
  const text = readFileSync(path, "utf8");
  const arr = text.match(/APT_PACKAGES=\(([\s\S]*?)\n\)/);
  if (!arr) fail("scripts/setup.sh: no APT_PACKAGES=( ... ) list found");
  const devPackages = arr
    ? arr[1].split("\n").map((l) => l.replace(/#.*/, "")).join(" ").split(/\s+/).filter(Boolean)
    : [];
  const b = text.match(/cmake\s+--build\s+"\$ROOT\/([^"]+)"/);
  if (!b) fail('scripts/setup.sh: no `cmake --build "$ROOT/<dir>"` step found');
  return { devPackages, buildDir: b ? b[1] : null };
}

function builtBinaries() {
  const found = new Map();
  const dirs = readdirSync(root).filter((d) => d === "build" || d.startsWith("build-")).map((d) => join(root, d));
  const walk = (dir, depth) => {
    if (depth > 4) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== "CMakeFiles") walk(p, depth + 1);
      else if (e.isFile() && BINARIES.includes(e.name) && !found.has(e.name) && statSync(p).mode & 0o100) found.set(e.name, p);
    }
  };
  dirs.forEach((d) => walk(d, 0));
  return found;
}

// Packages that provide the shared libraries `ldd` resolves for a binary.
function lddPackages(binary) {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  const pkgs = new Map();
  for (const m of out.matchAll(/=>\s+(\/\S+)/g)) {
    const lib = m[1];
    let owner = null;
    for (const candidate of [lib, execFileSync("readlink", ["-f", lib], { encoding: "utf8" }).trim()]) {
      try {
        owner = execFileSync("dpkg", ["-S", candidate], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(":")[0].trim();
        break;
      } catch {
        // try the next spelling of the path (merged /usr)
      }
    }
    if (!owner) fail(`${binary}: cannot tell which package provides ${lib} (dpkg -S)`);
    else pkgs.set(owner, lib);
  }
  if (/not found/.test(out)) fail(`${binary}: ldd reports missing libraries:\n${out}`);
  return pkgs;
}

function main() {
  const dockerfile = join(root, "Dockerfile");
  if (!existsSync(dockerfile)) {
    console.error("FAIL Dockerfile does not exist");
    return 1;
  }
  const stages = parseDockerfile(readFileSync(dockerfile, "utf8"));
  const { devPackages, buildDir } = setupScriptFacts();

  // Build stage.
  const build = stages.find((s) => s.name) ?? stages[0];
  if (!build || build.image !== "debian:12") fail(`the build stage must be FROM debian:12 (found ${build?.image})`);
  const buildRuns = (build?.instrs ?? []).filter((i) => i.instr === "RUN").map((i) => i.args).join(" ; ");
  const copyAt = (build?.instrs ?? []).findIndex((i) => i.instr === "COPY" && /^\.\s+\.?/.test(i.args));
  const setupAt = (build?.instrs ?? []).findIndex((i) => i.instr === "RUN" && /(^|[\s;&(])(\.\/)?scripts\/setup\.sh(\s|$|;|&)/.test(i.args));
  if (setupAt < 0) fail("the build stage does not RUN scripts/setup.sh");
  if (copyAt < 0 || (setupAt >= 0 && copyAt > setupAt)) fail("the build stage must COPY the sources (COPY . .) before running scripts/setup.sh");
  if (/scripts\/setup\.sh\s+--deps/.test(buildRuns)) fail("the build stage runs scripts/setup.sh --deps: it must run the full script, which builds");
  if (/\bcmake\s+-S/.test(buildRuns)) fail("the build stage configures CMake itself: leave configuring and building to scripts/setup.sh");
  if (buildDir && !new RegExp(`\\b${buildDir}\\b`).test(buildRuns)) fail(`the build stage does not take the binaries from ${buildDir}/, where scripts/setup.sh builds`);
  for (const b of BINARIES) if (!buildRuns.includes(b)) fail(`the build stage does not collect ${b}`);

  // Runtime stage.
  const runtime = stages[stages.length - 1];
  if (!runtime || runtime === build) fail("no separate runtime stage");
  if (runtime?.image !== "debian:12-slim") fail(`the runtime stage must be FROM debian:12-slim (found ${runtime?.image})`);
  const runtimeRuns = (runtime?.instrs ?? []).filter((i) => i.instr === "RUN").map((i) => i.args).join(" ; ");
  const runtimePkgs = new Set(aptPackagesIn(runtimeRuns));
  for (const p of runtimePkgs) if (FORBIDDEN_RUNTIME.some((re) => re.test(p))) fail(`the runtime stage installs build tooling: ${p}`);
  if (!runtimePkgs.has("ca-certificates")) fail("the runtime stage does not install ca-certificates (TLS to the TSDB and the API server)");
  if (!/rm -rf \/var\/lib\/apt\/lists/.test(runtimeRuns)) fail("the runtime stage keeps the apt lists (rm -rf /var/lib/apt/lists/*)");
  const copies = (runtime?.instrs ?? []).filter((i) => i.instr === "COPY" && /--from=/.test(i.args)).map((i) => i.args);
  if (!copies.some((c) => /\/usr\/local\/bin\/?$/.test(c))) fail("the runtime stage does not copy the binaries to /usr/local/bin/");
  const user = (runtime?.instrs ?? []).filter((i) => i.instr === "USER").pop();
  if (!user || !/^65532(:65532)?$/.test(user.args)) fail(`the runtime stage must end as USER 65532 (found ${user?.args ?? "none"})`);

  // Runtime libraries: setup.sh's -dev packages mapped to runtime packages...
  const needed = new Map();
  for (const dev of devPackages) {
    if (/-dev$/.test(dev) && !(dev in DEV_TO_RUNTIME) && /^lib|-cpp-dev$/.test(dev)) {
      fail(`scripts/setup.sh installs ${dev}: add its runtime package to DEV_TO_RUNTIME in tests/chart/check_dockerfile.mjs (and to the Dockerfile if the binaries link it)`);
    }
    for (const r of DEV_TO_RUNTIME[dev] ?? []) needed.set(r, `runtime of ${dev} (scripts/setup.sh)`);
  }
  // ...and what built binaries really load.
  const built = builtBinaries();
  for (const [name, path] of built) {
    for (const [pkg, lib] of lddPackages(path)) needed.set(pkg, `${name} loads ${lib}`);
  }
  for (const [pkg, why] of needed) {
    if (!BASE_PACKAGES.has(pkg) && !runtimePkgs.has(pkg)) fail(`the runtime stage does not install ${pkg} (${why})`);
  }

  // Build context.
  const ignorePath = join(root, ".dockerignore");
  const ignore = existsSync(ignorePath) ? readFileSync(ignorePath, "utf8").split("\n").map((l) => l.trim()) : [];
  for (const must of ["build/", ".tools/"]) {
    if (!ignore.some((l) => l === must || l === must.replace(/\/$/, "") || l === `/${must}`)) fail(`.dockerignore does not exclude ${must}`);
  }

  const builtNote = built.size > 0 ? `ldd of ${[...built.keys()].join(", ")}` : "no built binaries found, checked the setup.sh library list only";
  if (problems.length > 0) {
    for (const p of problems) console.error(`FAIL ${p}`);
    console.log(`check_dockerfile: ${problems.length} problem(s) (${builtNote})`);
    return 1;
  }
  console.log(`check_dockerfile: Dockerfile and scripts/setup.sh agree; runtime packages: ${[...runtimePkgs].sort().join(" ")} (${builtNote})`);
  return 0;
}

try {
  process.exit(main());
} catch (e) {
  console.error(`check_dockerfile: ${e.stack || e}`);
  process.exit(2);
}
