# NixOS 24.11 config that the reference rejects (an option's type); see ../../README.md
{ ... }: {
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.firewall.enable = false;
  documentation.nixos.enable = false;
  nixpkgs.hostPlatform = "x86_64-linux";
  system.stateVersion = "24.11";
  services.openssh = { enable = true; ports = [ 70000 ]; };
}
