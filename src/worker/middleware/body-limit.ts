// Caps request bodies before they are parsed; the answer is the 413 envelope.
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.js";

export const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError("payload_too_large", `the request body exceeds ${maxSize} bytes`);
    },
  });
