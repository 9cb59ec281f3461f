# Evaluates deploy/nixos/module.nix without nixpkgs: a small stand-in for
# the parts of `lib` and `pkgs` the module uses, and a miniature of the
# module system (option defaults overlaid with `settings`, mkIf and mkMerge
# resolved). Returns plain data for test/deploy/deploy.test.ts to check.
{
  module,
  settings ? { },
}:
let
  isType = t: v: builtins.isAttrs v && (v._type or null) == t;

  lib = rec {
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable ${name}.";
    };
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkDefault = value: value;
    mkForce = value: value;
    types = {
      bool = "bool";
      str = "str";
      port = "port";
      int = "int";
      path = "path";
      package = "package";
      ints.unsigned = "unsigned";
      nullOr = t: "null or ${t}";
      listOf = t: "list of ${t}";
      attrsOf = t: "attribute set of ${t}";
      enum = values: "one of ${builtins.concatStringsSep ", " values}";
    };
    optional = condition: x: if condition then [ x ] else [ ];
    optionals = condition: xs: if condition then xs else [ ];
    optionalAttrs = condition: attrs: if condition then attrs else { };
    optionalString = condition: s: if condition then s else "";
    concatLists = builtins.concatLists;
    concatStringsSep = builtins.concatStringsSep;
    mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (builtins.attrNames attrs);
    hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
    escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
    escapeShellArgs = list: builtins.concatStringsSep " " (map escapeShellArg list);
  };

  pkgs = {
    writeShellScript = name: text: {
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
      inherit name text;
    };
    writeShellScriptBin = name: text: {
      outPath = "/nix/store/00000000000000000000000000000000-${name}-bin";
      inherit name text;
    };
  };

  # Option declarations → their defaults, with `settings` laid over them.
  defaults =
    options:
    if isType "option" options then
      options.default or null
    else
      builtins.mapAttrs (_: defaults) options;
  overlay =
    base: top:
    if builtins.isAttrs base && builtins.isAttrs top && !(top ? outPath) then
      base // builtins.mapAttrs (name: value: if base ? ${name} then overlay base.${name} value else value) top
    else
      top;

  # mkIf / mkMerge → plain values; attribute sets merged, lists joined.
  merge =
    a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(a ? outPath) then
      a // builtins.mapAttrs (name: value: if a ? ${name} then merge a.${name} value else value) b
    else if builtins.isList a && builtins.isList b then
      a ++ b
    else
      b;
  resolve =
    value:
    if isType "if" value then
      (if value.condition then resolve value.content else { })
    else if isType "merge" value then
      builtins.foldl' merge { } (map resolve value.contents)
    else if builtins.isAttrs value && !(value ? outPath) then
      builtins.mapAttrs (_: resolve) value
    else
      value;

  # Option names, dotted, in declaration tree order.
  optionNames =
    prefix: options:
    if isType "option" options then
      [ prefix ]
    else
      builtins.concatLists (
        map (name: optionNames (if prefix == "" then name else "${prefix}.${name}") options.${name}) (
          builtins.attrNames options
        )
      );

  declared = (module {
    config = throw "options must not depend on config";
    inherit lib pkgs;
  }).options.services.islet;

  cfg = overlay (defaults declared) settings;

  evaluated = module {
    config = {
      services.islet = cfg;
      services.postgresql = { };
      systemd.package = "/nix/store/00000000000000000000000000000000-systemd";
    };
    inherit lib pkgs;
  };

  result = resolve evaluated.config;
  service = result.systemd.services.islet or { };
in
{
  options = optionNames "" declared;
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) (result.assertions or [ ]));
  environment = service.environment or { };
  serviceConfig = builtins.mapAttrs (_: v: if builtins.isAttrs v && v ? outPath then toString v else v) (
    service.serviceConfig or { }
  );
  after = service.after or [ ];
  requires = service.requires or [ ];
  postgresql = result.services.postgresql or null;
  nginxVirtualHosts = builtins.mapAttrs (_: vhost: {
    inherit (vhost) locations;
    enableACME = vhost.enableACME or null;
    forceSSL = vhost.forceSSL or null;
    extraConfig = vhost.extraConfig or "";
  }) (result.services.nginx.virtualHosts or { });
  firewall = result.networking.firewall.allowedTCPPorts or [ ];
  adminCommand = map (p: p.text) (result.environment.systemPackages or [ ]);
  launcher = (
    let
      exec = service.serviceConfig.ExecStart or "";
    in
    exec
  );
}
