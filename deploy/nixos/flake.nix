{
  description = "Islet, a single-user fediverse server: package and NixOS module";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  # This flake lives in deploy/nixos of the Islet repository; its package
  # builds the whole repository. Refer to it with ?dir=deploy/nixos, e.g.
  # inputs.islet.url = "git+https://your.git.host/islet?dir=deploy/nixos";
  # or, in a checkout, `nix build ./deploy/nixos` (Nix then takes the whole
  # git repository, tracked files only).
  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        islet = pkgs.callPackage ./package.nix { };
        default = islet;
      });

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./module.nix ];
          services.islet.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };

      # For a host running Islet in a NixOS container: nginxVirtualHost and
      # secretBindMounts, from the container's services.islet (lib.nix).
      lib = import ./lib.nix;
    };
}
