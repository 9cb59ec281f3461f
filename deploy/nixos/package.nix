# Islet as a Nix package: the npm project at the root of this repository,
# built with its lock file, run by nixpkgs' Node.js 24.
{
  lib,
  buildNpmPackage,
  nodejs_24,
}:
let
  root = ../..;
  # Leave out what is built or created here anyway, and this folder's
  # deployment files, so that editing them does not rebuild the package.
  excluded = [
    "node_modules"
    "dist"
    "data"
    ".git"
    "deploy"
  ];
in
buildNpmPackage {
  pname = "islet";
  version = (lib.importJSON (root + "/package.json")).version;

  src = lib.cleanSourceWith {
    src = root;
    filter = path: type: !(builtins.elem (baseNameOf path) excluded);
  };

  nodejs = nodejs_24;

  # PLACEHOLDER: the hash of the npm dependencies in package-lock.json. The
  # first build fails and prints the right value ("got: sha256-..."); put it
  # here, and again whenever package-lock.json changes. `prefetch-npm-deps
  # package-lock.json` (in nixpkgs) prints it without a failed build.
  npmDepsHash = lib.fakeHash;

  # No install scripts: the `node` dependency's would download a Node.js
  # binary (no network in the build sandbox; nixpkgs' nodejs_24 runs Islet),
  # and esbuild and sharp use their prebuilt platform packages from the lock
  # file without them. `npm run build` still runs: it bundles dist/islet.js.
  npmFlags = [ "--ignore-scripts" ];

  # buildNpmPackage installs the package's files (bin, src, dist, scripts)
  # into lib/node_modules/islet with production dependencies only, and wraps
  # bin/islet.js as bin/islet with this Node.js.

  meta = {
    description = "A single-user fediverse server";
    license = lib.licenses.agpl3Plus;
    mainProgram = "islet";
    platforms = lib.platforms.linux;
  };
}
