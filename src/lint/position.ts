// Places in a Dockerfile's text, zero-based as dockerfile-ast gives them (printing adds 1).

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}
