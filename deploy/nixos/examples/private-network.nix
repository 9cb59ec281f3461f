# A single-user server in a NixOS container with a network of its own
# (privateNetwork): nginx and Let's Encrypt on the host, for the apex
# domain, proxying to the container's address; the embedded database (no
# PostgreSQL at all); the SMTP password decrypted by sops-nix on the host
# and bind-mounted read-only into the container.
#
# No forwardPorts: the host's nginx reaches the container at its
# localAddress. Forwarding a host port to Islet would publish it, without
# TLS, on every address of the host, past the host's firewall (forwarded
# connections are not INPUT). The addresses are written once, on the
# container, and Islet's settings once, in its services.islet: the host
# reads them from there.
#
# Needs `inputs` in the module arguments (specialArgs = { inherit inputs; })
# with inputs.islet.url = "git+https://your.git.host/islet?dir=deploy/nixos".
{ config, inputs, ... }:
let
  domain = "example.com";
  container = config.containers.islet;
  islet = container.config.services.islet;
in
{
  # A root-only file on the host: /run/secrets/islet-smtp-password.
  sops.secrets.islet-smtp-password.sopsFile = ./islet.sops.yaml;

  containers.islet = {
    autoStart = true;
    privateNetwork = true;
    hostAddress = "10.233.1.1";
    localAddress = "10.233.1.2";
    # After the secret changes: nixos-container restart islet.
    bindMounts = inputs.islet.lib.secretBindMounts islet;
    config = {
      imports = [ inputs.islet.nixosModules.default ];
      system.stateVersion = "25.05";
      services.islet = {
        enable = true;
        localDomain = domain;
        bind = container.localAddress;
        trustedProxy = container.hostAddress;
        openFirewall = true;
        database.embedded = true;
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

  # The container reaches other servers through the host. If the host
  # resolves names through 127.0.0.53, give the container
  # networking.nameservers of its own.
  networking.nat = {
    enable = true;
    internalInterfaces = [ "ve-islet" ];
  };

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
