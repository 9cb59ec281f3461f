# Evaluates deploy/nixos/package.nix without nixpkgs: buildNpmPackage
# returns its arguments, and importNpmLock is a stand-in that does what
# nixpkgs' does with a lock file (one fetchurl per package, from its
# `resolved` URL with its `integrity` hash) after checking that what it was
# given is this repository's package.json and package-lock.json. Returns the
# derivation's arguments and its evaluated npmDeps for
# test/deploy/nixos.test.ts.
{ }:
let
  stubs = import ./stubs.nix;
  inherit (stubs) lib;
  root = ../../..;

  repositoryPackage = lib.importJSON (root + "/package.json");
  repositoryLock = lib.importJSON (root + "/package-lock.json");

  fetchurl = { url, hash }: { inherit url hash; };

  importNpmLock = {
    __functor =
      _:
      {
        package,
        packageLock,
        ...
      }:
      assert package == repositoryPackage;
      # The lock file's packages, versions and hashes, unchanged.
      assert builtins.attrNames packageLock.packages == builtins.attrNames repositoryLock.packages;
      assert builtins.all (
        path:
        (packageLock.packages.${path}.version or null) == (repositoryLock.packages.${path}.version or null)
        && (packageLock.packages.${path}.integrity or null) == (repositoryLock.packages.${path}.integrity or null)
      ) (builtins.attrNames repositoryLock.packages);
      {
        name = "${package.name}-${package.version}-sources";
        inherit (packageLock) lockfileVersion;
        # What nixpkgs' importNpmLock fetches: every entry with a URL.
        fetches = builtins.mapAttrs (
          _: module: if module ? resolved then fetchurl { url = module.resolved; hash = module.integrity; } else null
        ) packageLock.packages;
      };
    npmConfigHook = "importNpmLock.npmConfigHook";
  };

  derivation = import (root + "/deploy/nixos/package.nix") {
    inherit lib importNpmLock;
    buildNpmPackage = attrs: attrs;
    nodejs_24 = "nodejs_24";
  };
in
{
  inherit (derivation) pname version npmFlags npmConfigHook;
  nodejs = derivation.nodejs;
  npmDepsHash = derivation.npmDepsHash or null;
  src = toString derivation.src;
  npmDeps = derivation.npmDeps;
  meta = derivation.meta;
}
