# A single-user server in a NixOS container that shares the host's network
# (the style of the Mastodon setup Islet replaces): nginx and Let's Encrypt
# on the host, for the apex domain; the SMTP password decrypted by sops-nix
# on the host and bind-mounted read-only into the container; PostgreSQL in
# the container on port 5433, as another PostgreSQL on the host has 5432.
#
# Nothing else to do: no users or groups with matching uid and gid (systemd
# in the container reads the root-only secret and hands the service a copy),
# no directories to create (the state directory is systemd's), no database
# password (peer authentication over the unix socket), and the admin
# command is `nixos-container run islet -- islet doctor`. The port and the
# secret paths are written once, in the container's services.islet: the
# host reads them from there.
#
# Needs `inputs` in the module arguments (specialArgs = { inherit inputs; })
# with inputs.islet.url = "git+https://your.git.host/islet?dir=deploy/nixos".
{ config, inputs, ... }:
let
  domain = "example.com";
  islet = config.containers.islet.config.services.islet;
in
{
  # A root-only file on the host: /run/secrets/islet-smtp-password.
  sops.secrets.islet-smtp-password.sopsFile = ./islet.sops.yaml;

  containers.islet = {
    autoStart = true;
    # After the secret changes: nixos-container restart islet.
    bindMounts = inputs.islet.lib.secretBindMounts islet;
    config = {
      imports = [ inputs.islet.nixosModules.default ];
      system.stateVersion = "25.05";
      services.islet = {
        enable = true;
        localDomain = domain;
        database.port = 5433;
        smtp = {
          host = "smtp.eu.mailgun.org";
          tls = true; # port 465
          user = "postmaster@${domain}";
          passwordFile = "/run/secrets/islet-smtp-password";
          fromAddress = "Islet <islet@${domain}>";
        };
      };
    };
  };

  # Islet listens on 127.0.0.1, which the container shares with the host.
  services.nginx = {
    enable = true;
    virtualHosts.${domain} = inputs.islet.lib.nginxVirtualHost islet // {
      enableACME = true;
      forceSSL = true;
    };
  };
  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@${domain}";
  };
}
