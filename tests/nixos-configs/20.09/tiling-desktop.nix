# An X11 workstation with a tiling window manager (i3) instead of a desktop
# environment: lightdm, fonts, a few programs, pipewire-less sound, bluetooth.
{ config, lib, pkgs, ... }:
{
  boot.loader.systemd-boot.enable = true;
  boot.loader.systemd-boot.editor = false;
  boot.loader.timeout = 3;
  fileSystems."/" = { device = "/dev/nvme0n1p2"; fsType = "ext4"; };
  fileSystems."/boot" = { device = "/dev/nvme0n1p1"; fsType = "vfat"; };
  networking.hostName = "tiles";
  networking.networkmanager.enable = true;
  services.xserver = {
    enable = true;
    layout = "us,de";
    xkbOptions = "grp:alt_shift_toggle,caps:escape";
    libinput.enable = true;
    videoDrivers = [ "modesetting" ];
    displayManager.lightdm.enable = true;
    displayManager.defaultSession = "none+i3";
    windowManager.i3 = { enable = true; extraPackages = with pkgs; [ dmenu i3status i3lock ]; };
  };
  fonts.fonts = with pkgs; [ dejavu_fonts noto-fonts fira-code ];
  fonts.fontconfig.defaultFonts.monospace = [ "Fira Code" ];
  hardware.bluetooth.enable = true;
  sound.enable = true;
  hardware.pulseaudio.enable = true;
  programs.vim.defaultEditor = true;
  programs.gnupg.agent = { enable = true; enableSSHSupport = true; };
  services.redshift.enable = true;
  location = { latitude = 52.37; longitude = 4.89; };
  users.users.dana = { isNormalUser = true; extraGroups = [ "wheel" "video" "networkmanager" ]; };
  environment.systemPackages = with pkgs; [ alacritty rofi feh ];
}
