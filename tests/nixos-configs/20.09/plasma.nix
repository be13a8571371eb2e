# KDE Plasma 5 with sddm, wayland-free; plus steam-like 32-bit graphics and
# pulseaudio with 32-bit support, and a user with many groups.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub = { device = "/dev/sda"; useOSProber = true; };
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.hostName = "kde";
  services.xserver.enable = true;
  services.xserver.displayManager.sddm.enable = true;
  services.xserver.desktopManager.plasma5.enable = true;
  hardware.opengl = { enable = true; driSupport32Bit = true; };
  hardware.pulseaudio = { enable = true; support32Bit = true; };
  sound.enable = true;
  users.users.gina = { isNormalUser = true; extraGroups = [ "wheel" "audio" "video" "input" "lp" "scanner" ]; };
  environment.systemPackages = with pkgs; [ kate ark okular ];
}
