// Minimal typings for asterisk-manager 0.2.0 (the package ships none): only what session.ts uses.
declare module 'asterisk-manager' {
  /** A parsed AMI message: keys lower-cased; repeated keys become arrays; `variable`/`chanvariable` become objects. */
  type RawAmiMessage = Record<string, unknown>;

  interface AsteriskManager {
    on(event: string, listener: (...args: unknown[]) => void): void;
    once(event: string, listener: (...args: unknown[]) => void): void;
    removeListener(event: string, listener: (...args: unknown[]) => void): void;
    removeAllListeners(event?: string): void;
    connect(port: number, host: string, callback?: () => void): void;
    login(callback?: (err?: RawAmiMessage) => void): void;
    action(action: Record<string, string>, callback?: (err: RawAmiMessage | undefined, res: RawAmiMessage) => void): string;
    disconnect(callback?: () => void): void;
    isConnected(): boolean;
  }

  function Manager(port?: number, host?: string, username?: string, password?: string, events?: boolean): AsteriskManager;
  export = Manager;
}
