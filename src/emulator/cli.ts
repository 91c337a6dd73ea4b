// placeholder until the emulator lands
export {};
