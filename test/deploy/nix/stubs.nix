# Stand-ins for the parts of nixpkgs' `lib` and `pkgs` that deploy/nixos
# uses, for evaluating it without nixpkgs (test/deploy/nixos.test.ts).
# Option types are plain labels; mkDefault and mkForce are the value itself;
# mkIf and mkMerge are kept as markers for eval-module.nix to resolve;
# mkRenamedOptionModule and mkRemovedOptionModule return marker modules that
# eval-module.nix applies to the settings it is given.
rec {
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
    mkRenamedOptionModule = from: to: {
      _type = "renamed";
      inherit from to;
    };
    mkRemovedOptionModule = path: instructions: {
      _type = "removed";
      inherit path instructions;
    };
    types = {
      bool = "bool";
      str = "str";
      port = "port";
      int = "int";
      path = "path";
      package = "package";
      ints.unsigned = "unsigned";
      ints.positive = "positive";
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
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    listToAttrs = builtins.listToAttrs;
    hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
    escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
    escapeShellArgs = list: builtins.concatStringsSep " " (map escapeShellArg list);
    importJSON = path: builtins.fromJSON (builtins.readFile path);
    # The source as it is: nothing is copied into a store here.
    cleanSourceWith = { src, ... }: src;
    licenses.agpl3Plus = "AGPL-3.0-or-later";
    platforms.linux = [
      "x86_64-linux"
      "aarch64-linux"
    ];
  };

  storePath = name: "/nix/store/00000000000000000000000000000000-${name}";

  pkgs = {
    writeShellScript = name: text: {
      outPath = storePath name;
      inherit name text;
    };
    writeShellScriptBin = name: text: {
      outPath = storePath "${name}-bin";
      inherit name text;
    };
    ffmpeg-headless = {
      outPath = storePath "ffmpeg-headless";
      name = "ffmpeg-headless";
    };
  };
}
