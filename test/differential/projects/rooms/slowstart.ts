import type * as Party from "partykit/server";

// onStart awaits a timer: does a second request wait for it?
export default class SlowStart implements Party.Server {
  private ready = false;
  private starts = 0;

  constructor(readonly room: Party.Room) {}

  async onStart() {
    this.starts++;
    await new Promise((resolve) => setTimeout(resolve, 400));
    this.ready = true;
  }

  onRequest() {
    return new Response(`ready ${this.ready} starts ${this.starts}`);
  }
}
