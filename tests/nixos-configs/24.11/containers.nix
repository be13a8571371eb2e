# NixOS 24.11: a host for declarative NixOS containers (systemd-nspawn) on a
# private network: a web container with nginx, a database container with
# PostgreSQL and one bound to a host directory, each a NixOS system of its own.
{ config, lib, pkgs, ... }:
let
  # Each container is a NixOS system with its own pkgs. What this tree lacks
  # (doc/, Haskell packages): no manual, and shellcheck (postgresql's
  # pg_config, which nginx reaches, is a writeShellApplication) is skipped as
  # on platforms without GHC.
  treeWorkarounds = {
    system.stateVersion = "24.11";
    documentation.nixos.enable = false;
    networking.firewall.enable = false;
    nixpkgs.overlays = [ (final: prev: { shellcheck-minimal = { compiler.meta.platforms = [ ]; }; }) ];
  };
in
{
  imports = [ treeWorkarounds ];
  nixpkgs.hostPlatform = "x86_64-linux";

  boot.loader.grub.device = "/dev/vda";
  fileSystems."/" = { device = "/dev/vda1"; fsType = "ext4"; };
  networking.hostName = "ctr-host";
  networking.nat = { enable = true; internalInterfaces = [ "ve-+" ]; externalInterface = "ens3"; };

  containers.web = {
    autoStart = true;
    privateNetwork = true;
    hostAddress = "10.231.0.1";
    localAddress = "10.231.0.2";
    config = { ... }: {
      imports = [ treeWorkarounds ];
      services.nginx = {
        enable = true;
        virtualHosts."web.local".locations."/".return = "200 'hello from a container'";
      };
    };
  };

  containers.db = {
    autoStart = true;
    privateNetwork = true;
    hostAddress = "10.231.1.1";
    localAddress = "10.231.1.2";
    config = { pkgs, ... }: {
      imports = [ treeWorkarounds ];
      services.postgresql = {
        enable = true;
        enableTCPIP = true;
        ensureDatabases = [ "web" ];
        authentication = "host web all 10.231.0.0/16 scram-sha-256";
      };
    };
  };

  containers.scratch = {
    ephemeral = true;
    bindMounts."/srv/data" = { hostPath = "/srv/scratch"; isReadOnly = false; };
    config = {
      imports = [ treeWorkarounds ];
      users.users.worker = { isNormalUser = true; uid = 1500; };
      environment.systemPackages = [ pkgs.rsync ];
    };
  };
}
