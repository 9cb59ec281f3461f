# Evaluates one of deploy/nixos/examples as NixOS would, without nixpkgs:
# the example gets `inputs.islet`, the real flake's outputs (its nixpkgs
# stood in by stubs.nix), and `config`, the example's own result with each
# container's configuration evaluated (so that the host may read the
# container's services.islet). Each system that imports the flake's module
# (the host, or a container) has its services.islet evaluated by
# eval-module.nix. Returns plain data for test/deploy/nixos.test.ts.
{ example }:
let
  stubs = import ./stubs.nix;
  inherit (stubs) isType lib pkgs;
  root = ../../..;

  system = "x86_64-linux";
  nixpkgs = {
    lib = {
      inherit (lib) genAttrs;
    };
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: {
      callPackage =
        path: overrides:
        import path (
          {
            inherit lib;
            buildNpmPackage = attrs: attrs // { outPath = stubs.storePath "${attrs.pname}-${attrs.version}"; };
            importNpmLock = {
              __functor = _: args: { outPath = stubs.storePath "islet-sources"; };
              npmConfigHook = "npmConfigHook";
            };
            nodejs_24 = "nodejs_24";
          }
          // overrides
        );
    });
  };
  flake = import (root + "/deploy/nixos/flake.nix");
  islet = flake.outputs {
    self = islet;
    inherit nixpkgs;
  };
  inputs = { inherit islet; };

  moduleArgs = config: {
    inherit config lib inputs;
    pkgs = pkgs // {
      stdenv.hostPlatform.system = system;
    };
  };

  merge =
    a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(a ? outPath) then
      a // builtins.mapAttrs (name: value: if a ? ${name} then merge a.${name} value else value) b
    else if builtins.isList a && builtins.isList b then
      a ++ b
    else
      b;

  # A module (path, function or attribute set) and what it imports, as a
  # list of attribute sets; the flake's module.nix is left out (its own
  # evaluation is eval-module.nix's), and noted.
  isIsletModule = m: builtins.isPath m && baseNameOf m == "module.nix";
  expand =
    config: m:
    if isIsletModule m then
      [ { _islet = true; } ]
    else
      let
        value = if builtins.isPath m then import m else m;
        called = if builtins.isFunction value then value (moduleArgs config) else value;
      in
      builtins.concatLists (map (expand config) (called.imports or [ ])) ++ [ (builtins.removeAttrs called [ "imports" ]) ];

  # A NixOS system made of `modules`: their definitions merged, and
  # services.islet evaluated when the flake's module is among them.
  evalSystem =
    modules:
    let
      parts = builtins.concatLists (map (expand config) modules);
      definitions = builtins.foldl' merge { } (builtins.filter (p: !(p ? _islet)) parts);
      withIslet = builtins.any (p: p ? _islet) parts;
      isletResult = import ./eval-module.nix {
        module = import (root + "/deploy/nixos/module.nix");
        settings = definitions.services.islet or { };
        system = definitions;
      };
      config = definitions // {
        services = (definitions.services or { }) // (if withIslet then { islet = isletResult.config; } else { });
      };
    in
    {
      inherit config definitions;
      islet = if withIslet then builtins.removeAttrs isletResult [ "config" ] else null;
    };

  # The host: the example itself, with the flake's module as a system's
  # flake.nix would list it, its containers evaluated as systems.
  host = evalSystem [
    islet.nixosModules.default
    (args: (import example) (args // { config = hostConfig; }))
  ];
  containers = builtins.mapAttrs (_: container: evalSystem [ container.config ]) (host.definitions.containers or { });
  hostConfig = host.config // {
    containers = builtins.mapAttrs (name: container: container // { config = containers.${name}.config; }) (
      host.definitions.containers or { }
    );
  };

  plain = value: if builtins.isAttrs value && !(value ? outPath) then builtins.mapAttrs (_: plain) value else if builtins.isAttrs value then toString value else value;
in
{
  # The host's services.islet, when it runs Islet itself.
  islet = if (host.definitions.services.islet.enable or false) then host.islet else null;
  containers = builtins.mapAttrs (name: container: {
    inherit (container) islet;
    settings = {
      inherit (host.definitions.containers.${name})
        autoStart
        ;
      privateNetwork = host.definitions.containers.${name}.privateNetwork or false;
      hostAddress = host.definitions.containers.${name}.hostAddress or null;
      localAddress = host.definitions.containers.${name}.localAddress or null;
      forwardPorts = host.definitions.containers.${name}.forwardPorts or [ ];
      bindMounts = host.definitions.containers.${name}.bindMounts or { };
    };
    # What the container's own configuration sets besides services.islet.
    definitions = plain (builtins.removeAttrs container.definitions [ "services" ]) // {
      services = builtins.removeAttrs (container.definitions.services or { }) [ "islet" ];
    };
  }) containers;
  nginxVirtualHosts = host.definitions.services.nginx.virtualHosts or { };
  nat = host.definitions.networking.nat or null;
  acme = host.definitions.security.acme or null;
  sopsSecrets = builtins.attrNames (host.definitions.sops.secrets or { });
}
