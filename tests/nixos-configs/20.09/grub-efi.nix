# A laptop-ish machine: GRUB on EFI with an encrypted root (LUKS in the
# initrd), kernel parameters, sysctls and modules, zram-free swap, a custom
# kernel package set.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub = {
    enable = true;
    version = 2;
    efiSupport = true;
    device = "nodev";
    useOSProber = false;
    configurationLimit = 10;
    extraEntries = ''
      menuentry "Firmware setup" { fwsetup }
    '';
  };
  boot.loader.efi.canTouchEfiVariables = true;
  boot.loader.efi.efiSysMountPoint = "/boot/efi";
  boot.initrd.luks.devices.cryptroot = { device = "/dev/disk/by-uuid/0000-1111"; allowDiscards = true; };
  boot.initrd.availableKernelModules = [ "xhci_pci" "nvme" "usb_storage" "sd_mod" ];
  boot.kernelPackages = pkgs.linuxPackages_5_4;
  boot.kernelModules = [ "kvm-intel" ];
  boot.extraModulePackages = [ config.boot.kernelPackages.acpi_call ];
  boot.kernelParams = [ "quiet" "mitigations=auto" ];
  boot.kernel.sysctl = { "vm.swappiness" = 10; "net.ipv4.ip_forward" = 1; };
  boot.tmpOnTmpfs = true;
  fileSystems."/" = { device = "/dev/mapper/cryptroot"; fsType = "ext4"; };
  fileSystems."/boot/efi" = { device = "/dev/disk/by-uuid/ABCD-EF01"; fsType = "vfat"; };
  swapDevices = [ { device = "/swapfile"; size = 4096; } ];
  hardware.cpu.intel.updateMicrocode = true;
  services.tlp.enable = true;
  networking.hostName = "lappy";
  networking.wireless.enable = true;
  time.timeZone = "America/New_York";
  console.keyMap = "de";
  i18n.defaultLocale = "de_DE.UTF-8";
}
