# A Raspberry-Pi-like aarch64 system evaluated on x86_64: nixpkgs.localSystem
# aarch64 (native aarch64 packages), the generic extlinux loader, and a
# device-tree-free kernel choice.
{ config, lib, pkgs, ... }:
{
  nixpkgs.localSystem = { system = "aarch64-linux"; };
  boot.loader.grub.enable = false;
  boot.loader.generic-extlinux-compatible.enable = true;
  boot.kernelPackages = pkgs.linuxPackages;
  fileSystems."/" = { device = "/dev/disk/by-label/NIXOS_SD"; fsType = "ext4"; };
  networking.hostName = "pi";
  services.openssh.enable = true;
  hardware.enableRedistributableFirmware = true;
}
