# NixOS 24.11: a developer laptop with systemd-boot, users with groups and
# sudo rules, docker, zsh, an overlay that patches a package, environment
# files, and specialisations (an extra boot entry each) that change the
# kernel parameters, add a service and switch the docker storage driver.
{ config, lib, pkgs, ... }:
{
  nixpkgs.hostPlatform = "x86_64-linux";
  nixpkgs.overlays = [
    (final: prev: {
      shellcheck-minimal = { compiler.meta.platforms = [ ]; };
      hello = prev.hello.overrideAttrs (old: { pname = "hello-patched"; doCheck = false; });
      motd-text = final.writeText "motd" "welcome to ${config.networking.hostName}\n";
    })
  ];
  documentation.nixos.enable = false;
  system.stateVersion = "24.11";

  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;
  boot.initrd.availableKernelModules = [ "nvme" "xhci_pci" "usb_storage" ];
  boot.kernelModules = [ "kvm-amd" ];
  fileSystems."/" = { device = "/dev/disk/by-label/nixos"; fsType = "btrfs"; options = [ "subvol=root" "compress=zstd" ]; };
  fileSystems."/home" = { device = "/dev/disk/by-label/nixos"; fsType = "btrfs"; options = [ "subvol=home" ]; };
  fileSystems."/boot" = { device = "/dev/disk/by-label/BOOT"; fsType = "vfat"; };

  networking.hostName = "devbox";
  networking.networkmanager.enable = false;
  networking.firewall.allowedTCPPorts = [ 3000 ];
  time.timeZone = "UTC";

  users.mutableUsers = false;
  users.groups.dev.gid = 3000;
  users.users.carol = {
    isNormalUser = true;
    uid = 1001;
    group = "dev";
    extraGroups = [ "wheel" "docker" ];
    shell = pkgs.zsh;
    hashedPassword = "$6$rounds=1000$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm";
    packages = with pkgs; [ hello ripgrep ];
  };
  security.sudo.extraRules = [
    { users = [ "carol" ]; commands = [ { command = "/run/current-system/sw/bin/systemctl restart docker"; options = [ "NOPASSWD" ]; } ]; }
  ];
  programs.zsh.enable = true;
  programs.git = { enable = true; config.init.defaultBranch = "main"; };
  virtualisation.docker = { enable = true; storageDriver = "btrfs"; };
  environment.etc."motd".source = pkgs.motd-text;
  environment.variables.EDITOR = "vim";
  environment.systemPackages = with pkgs; [ vim git gnumake gcc ];

  specialisation.debug.configuration = {
    boot.kernelParams = [ "systemd.log_level=debug" "loglevel=7" ];
    services.openssh.enable = true;
    environment.systemPackages = [ pkgs.strace ];
  };
  specialisation.overlayfs = {
    inheritParentConfig = true;
    configuration.virtualisation.docker.storageDriver = lib.mkForce "overlay2";
  };
}
