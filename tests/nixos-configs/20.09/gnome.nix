# A GNOME 3 desktop with gdm, flatpak, printing with drivers, CUPS sharing,
# avahi, fonts, unfree firmware and a Chinese input method.
{ config, lib, pkgs, ... }:
{
  boot.loader.systemd-boot.enable = true;
  fileSystems."/" = { device = "/dev/sda2"; fsType = "ext4"; };
  fileSystems."/boot" = { device = "/dev/sda1"; fsType = "vfat"; };
  networking.hostName = "gnomey";
  networking.networkmanager.enable = true;
  nixpkgs.config.allowUnfree = true;
  hardware.enableRedistributableFirmware = true;
  services.xserver.enable = true;
  services.xserver.displayManager.gdm.enable = true;
  services.xserver.desktopManager.gnome3.enable = true;
  services.flatpak.enable = true;
  # fwupd and gnome-software need pandoc (Haskell), which the shared tree lacks
  services.fwupd.enable = lib.mkForce false;
  environment.gnome3.excludePackages = [ pkgs.gnome3.gnome-software ];
  xdg.portal.enable = true;
  services.printing = { enable = true; drivers = [ pkgs.gutenprint ]; browsing = true; };
  services.avahi = { enable = true; nssmdns = true; };
  i18n.inputMethod = { enabled = "ibus"; ibus.engines = with pkgs.ibus-engines; [ libpinyin ]; };
  fonts.fonts = [ pkgs.noto-fonts-cjk ];
  users.users.frank = { isNormalUser = true; extraGroups = [ "wheel" ]; };
}
