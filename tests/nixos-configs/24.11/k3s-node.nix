# NixOS 24.11: a k3s server node on GRUB (EFI, removable), with its own
# module that declares options (node role, extra manifests) and expands them
# into k3s flags, tmpfiles rules and environment files; kernel modules and
# sysctls for container networking; a static IPv4/IPv6 address.
{ config, lib, pkgs, ... }:
let
  cfg = config.cluster;
in
{
  options.cluster = {
    role = lib.mkOption { type = lib.types.enum [ "server" "agent" ]; default = "server"; };
    clusterInit = lib.mkEnableOption "initialising a new cluster";
    manifests = lib.mkOption { type = lib.types.attrsOf lib.types.lines; default = { }; };
    nodeLabels = lib.mkOption { type = lib.types.attrsOf lib.types.str; default = { }; };
  };

  config = {
    nixpkgs.hostPlatform = "x86_64-linux";
    documentation.nixos.enable = false;
    networking.firewall.enable = false;
    system.stateVersion = "24.11";

    boot.loader.grub = { enable = true; efiSupport = true; efiInstallAsRemovable = true; device = "nodev"; };
    boot.kernelModules = [ "br_netfilter" "overlay" ];
    boot.kernel.sysctl = { "net.bridge.bridge-nf-call-iptables" = 1; "net.ipv4.ip_forward" = 1; };
    fileSystems."/" = { device = "/dev/sda2"; fsType = "ext4"; };
    fileSystems."/boot" = { device = "/dev/sda1"; fsType = "vfat"; };

    networking.hostName = "node1";
    networking.useDHCP = false;
    networking.interfaces.eth0 = {
      ipv4.addresses = [ { address = "10.0.0.11"; prefixLength = 24; } ];
      ipv6.addresses = [ { address = "fd00::11"; prefixLength = 64; } ];
    };
    networking.defaultGateway = "10.0.0.1";
    networking.nameservers = [ "10.0.0.1" ];

    cluster = {
      clusterInit = true;
      nodeLabels = { zone = "a"; tier = "control"; };
      manifests.whoami = ''
        apiVersion: v1
        kind: Namespace
        metadata:
          name: whoami
      '';
    };

    services.k3s = {
      enable = true;
      role = cfg.role;
      clusterInit = cfg.clusterInit;
      tokenFile = "/var/lib/rancher/k3s/token";
      extraFlags = lib.concatStringsSep " " (
        [ "--disable=traefik" "--write-kubeconfig-mode=0640" ]
        ++ lib.mapAttrsToList (k: v: "--node-label=${k}=${v}") cfg.nodeLabels
      );
    };
    systemd.tmpfiles.rules = lib.mapAttrsToList
      (name: text: "L+ /var/lib/rancher/k3s/server/manifests/${name}.yaml - - - - ${pkgs.writeText "${name}.yaml" text}")
      cfg.manifests;
    environment.systemPackages = with pkgs; [ kubectl k9s ];
  };
}
