# Islet as a Nix package: the npm project at the root of this repository,
# built from its lock file, run by nixpkgs' Node.js 24.
#
# No hash to keep up to date: nixpkgs' importNpmLock fetches every package
# named in package-lock.json on its own, checked against the lock's
# `integrity` (sha512) hash, so changing the lock file is all a dependency
# update takes.
{
  lib,
  buildNpmPackage,
  importNpmLock,
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

  packageJson = lib.importJSON (root + "/package.json");
  lock = lib.importJSON (root + "/package-lock.json");

  # The lock is written without `resolved` URLs (they would name whichever
  # registry mirror it was made against), so each package's tarball URL is
  # put back in the public registry's layout: NAME/-/BASENAME-VERSION.tgz.
  # The integrity hash stays the lock's: a tarball that differs is refused.
  registry = "https://registry.npmjs.org";
  packageName = path: module: module.name or (builtins.head (builtins.match ".*node_modules/(.*)" path));
  withResolved =
    path: module:
    if path == "" || module ? resolved || (module.link or false) then
      module
    else
      let
        name = packageName path module;
      in
      module // { resolved = "${registry}/${name}/-/${baseNameOf name}-${module.version}.tgz"; };
  packageLock = lock // {
    packages = builtins.mapAttrs withResolved lock.packages;
  };
in
buildNpmPackage {
  pname = "islet";
  inherit (packageJson) version;

  src = lib.cleanSourceWith {
    src = root;
    filter = path: type: !(builtins.elem (baseNameOf path) excluded);
  };

  nodejs = nodejs_24;

  npmDeps = importNpmLock {
    package = packageJson;
    inherit packageLock;
  };
  npmConfigHook = importNpmLock.npmConfigHook;

  # No install scripts: the `node` dependency's would download a Node.js
  # binary (no network in the build sandbox; nixpkgs' nodejs_24 runs Islet),
  # and esbuild and sharp use their prebuilt platform packages from the lock
  # file without them. `npm run build` still runs: it applies
  # scripts/patch-dependencies.js (Islet's postinstall) and bundles
  # dist/islet.js.
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
