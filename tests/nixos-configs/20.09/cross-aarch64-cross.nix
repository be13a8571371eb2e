# True cross-compilation: built on x86_64 for aarch64 (nixpkgs.crossSystem),
# which exercises splicing (buildPackages/targetPackages) everywhere.
{ config, lib, pkgs, ... }:
{
  nixpkgs.crossSystem = lib.systems.examples.aarch64-multiplatform;
  boot.loader.grub.enable = false;
  boot.loader.generic-extlinux-compatible.enable = true;
  fileSystems."/" = { device = "/dev/disk/by-label/root"; fsType = "ext4"; };
  networking.hostName = "crossy";
  documentation.enable = false;
  services.udisks2.enable = false;
  security.polkit.enable = false;
  environment.noXlibs = true;
}
