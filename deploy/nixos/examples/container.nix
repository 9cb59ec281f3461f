# Islet in a NixOS container, nginx and ACME on the host, secrets decrypted
# by sops-nix on the host and bind-mounted read-only into the container.
#
# Nothing else to do: no users or groups with matching uid and gid (systemd
# in the container reads the root-only secret files and hands the service a
# copy), no directories to create (the state directory is systemd's), no
# PostgreSQL port to change (it listens on its unix socket only), and the
# admin command is `nixos-container run islet -- islet doctor`.
#
# Needs `inputs` in the module arguments (specialArgs = { inherit inputs; })
# with inputs.islet.url = "git+https://your.git.host/islet?dir=deploy/nixos".
{
  lib,
  inputs,
  ...
}:
let
  domain = "example.com";
  secrets = [
    "islet-secret-key-base"
    "islet-smtp-password"
  ];
in
{
  # Root-only files under /run/secrets on the host.
  sops.secrets = lib.genAttrs secrets (_: { sopsFile = ./islet.sops.yaml; });

  containers.islet = {
    autoStart = true;
    # After a secret changes: nixos-container restart islet.
    bindMounts = lib.listToAttrs (
      map (name: {
        name = "/run/secrets/${name}";
        value = {
          hostPath = "/run/secrets/${name}";
          isReadOnly = true;
        };
      }) secrets
    );
    config =
      { lib, ... }:
      {
        imports = [ inputs.islet.nixosModules.default ];
        system.stateVersion = "25.05";
        services.islet = {
          enable = true;
          localDomain = domain;
          secretKeyBaseFile = "/run/secrets/islet-secret-key-base";
          smtp = {
            server = "smtp.eu.mailgun.org";
            port = 465;
            tls = true;
            login = "postmaster@${domain}";
            passwordFile = "/run/secrets/islet-smtp-password";
            fromAddress = "Islet <islet@${domain}>";
          };
          # The host's nginx connects from 127.0.0.1.
          extraEnvironment.TRUSTED_PROXY_IP = "127.0.0.1";
        };
        # The container shares the host's network: keep its PostgreSQL off
        # TCP so it never meets the host's on port 5432.
        services.postgresql.settings.listen_addresses = lib.mkForce "";
      };
  };

  # Islet listens on 127.0.0.1:3000, which the container shares with the host.
  services.nginx = {
    enable = true;
    virtualHosts.${domain} = inputs.islet.lib.nginxVirtualHost { port = 3000; } // {
      enableACME = true;
      forceSSL = true;
    };
  };
  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@${domain}";
  };
}
