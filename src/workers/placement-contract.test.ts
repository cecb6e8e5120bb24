/**
 * The placement contract (src/runtime/placement-contract-test-support.ts) against the workers'
 * placement: SupervisorPlacement instances (one per worker) whose messages are answered by the
 * supervisor's own code (answerPlacement over a real Assignments table), delivered a turn later
 * as over IPC. Rooms of a live worker cannot be lost, so the takeover case is skipped.
 */
import { randomBytes } from "node:crypto";
import { placementContract } from "../runtime/placement-contract-test-support.js";
import { Assignments } from "./assignments.js";
import { answerPlacement } from "./placement-answers.js";
import { SupervisorPlacement } from "./supervisor-placement.js";

placementContract({
  name: "SupervisorPlacement (start --workers)",
  maxNodes: 2,
  propertyRuns: 100,
  async start(count) {
    const assignments = new Assignments(count);
    const secret = randomBytes(16).toString("hex");
    const nodes: SupervisorPlacement[] = [];
    for (let worker = 0; worker < count; worker++) {
      assignments.setEligible(worker, true);
      nodes.push(
        new SupervisorPlacement(worker, secret, {
          send: (message) =>
            setImmediate(() => {
              const answer = answerPlacement(assignments, worker, message, (owner) => `127.0.0.1:${4000 + owner}`);
              if (answer !== undefined) nodes[worker]!.receive(answer);
            }),
        }),
      );
    }
    return { nodes, async stop() {} };
  },
});
