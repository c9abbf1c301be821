// Types of the front end: the widget model's synced traits and the custom messages between the
// two halves. The same shapes are TypedDicts in reactor_notebook/widget/messages.py (keep them in
// step). JSDoc only: this module exports no code.

/**
 * One form field: a normalised schema parameter plus how to render it.
 * @typedef {object} FieldSpec
 * @property {string} name
 * @property {string} type
 * @property {"upload"|"image"|"select"|"checkbox"|"slider"|"number"|"textarea"|"text"|"json"} kind
 * @property {boolean} required
 * @property {boolean} [nullable]
 * @property {*} [default]
 * @property {number|null} [minimum]
 * @property {number|null} [maximum]
 * @property {number|null} [step]
 * @property {number|null} [maxLength]
 * @property {Array<*>|null} [enum]
 * @property {string} [description]
 * @property {string[]} [alternatives]  other members of its one-of group
 */

/**
 * One command's form, from the `commands` trait.
 * @typedef {object} CommandSpec
 * @property {string} name
 * @property {string} description
 * @property {FieldSpec[]} params
 * @property {string[][]} one_of
 * @property {boolean} transport  a parameter-less generation control, drawn as a button
 */

/**
 * Why a command was refused (by validation or by the model).
 * @typedef {object} CommandError
 * @property {string|null} command
 * @property {string|null} field
 * @property {string|null} reason
 * @property {string} message
 */

/**
 * How js/src/timeline.js draws a model's state: a ClientProfile's `timeline` in
 * reactor_notebook/profiles (empty for a model without one).
 * @typedef {object} ProfileTimeline
 * @property {Object<string, string>} [buttons]     transport command -> its button label
 * @property {Object<string, string>} [state_line]  state key -> its text in the state line, `{}` the value
 * @property {Object<string, string>} [modes]       state flag -> mode name; the first true flag wins
 * @property {string} [idle]                        the mode when no flag is true
 * @property {string} [lane]                        state key of the chunk -> prompt schedule
 */

/**
 * What the front end knows about the model beyond its schema (the `profile` trait).
 * @typedef {object} ModelProfile
 * @property {string} name
 * @property {string[]} transport_commands  parameter-less commands drawn as transport buttons
 * @property {string|null} chunk_key        state key of the model's chunk counter
 * @property {ProfileTimeline} timeline
 */

/**
 * The synced traits the front end reads (see ReactorWidget in reactor_notebook/widget/widget.py).
 * @typedef {object} ReactorTraits
 * @property {string} status
 * @property {string|null} session_id
 * @property {string} model_name
 * @property {ModelProfile} profile
 * @property {{code: string, message: string, recoverable: boolean, component: string, retry_after: number|null}|null} last_error
 * @property {number} shared_clients
 * @property {CommandSpec[]} commands
 * @property {{protocol_version: *, tracks: object[], emission_fps: number|null}} capabilities
 * @property {Object<string, *>|null} model_state
 * @property {(CommandError & {time: number})|null} model_error
 * @property {{time: number, kind: string, text: string, data?: object}[]} events
 * @property {Object<string, *>} stats
 * @property {string} track
 * @property {"contain"|"cover"|"fill"|"none"|"scale-down"} fit
 * @property {number} width
 * @property {number} height
 * @property {boolean} show_stats
 * @property {boolean} show_forms
 * @property {boolean} show_index_code
 * @property {string[]} input_tracks
 * @property {boolean} webcam_active
 * @property {number} webcam_fps
 * @property {MediaTrackConstraints} webcam_constraints
 * @property {boolean} kernel_subshells
 * @property {boolean} direct          the page may join a keyless local runtime itself
 * @property {string|null} direct_url  that runtime's base URL (null: JPEG frames from the kernel)
 */

/**
 * The anywidget model as this front end uses it.
 * @typedef {object} ReactorModel
 * @property {<K extends keyof ReactorTraits>(name: K) => ReactorTraits[K]} get
 * @property {<K extends keyof ReactorTraits>(name: K, value: ReactorTraits[K]) => void} set
 * @property {() => void} save_changes
 * @property {(event: string, handler: Function) => void} on
 * @property {(event: string, handler: Function) => void} off
 * @property {(content: BrowserMessage, callbacks?: *, buffers?: ArrayBuffer[]) => void} send
 */

/**
 * Sends one message to the kernel, with optional binary buffers.
 * @typedef {(content: BrowserMessage, buffers?: ArrayBuffer[]) => void} Send
 */

// --- browser → kernel ------------------------------------------------------------------------

/** @typedef {{type: "ready"|"view_closed", view: string} | {type: "visibility", view: string, visible: boolean} | {type: "view_path", view: string, path: "direct"|"jpeg"}} ViewMessage */
/** @typedef {{type: "ack", id: number, n?: number}} AckMessage */
/** @typedef {{buffer: number, name: string, mime_type: string|null}} UploadField */
/** @typedef {{type: "command", id: string, name: string, args: Object<string, *>, uploads?: Object<string, UploadField>}} CommandMessage */
/** @typedef {{type: "retry"} | {type: "webcam_start", track?: string|null} | {type: "webcam_stop"}} ControlMessage */
/** @typedef {{type: "webcam_frame", id: number}} WebcamFrameMessage  its JPEG is the first buffer */
/** @typedef {ViewMessage|AckMessage|CommandMessage|ControlMessage|WebcamFrameMessage} BrowserMessage */

// --- kernel → browser ------------------------------------------------------------------------

/**
 * One video frame; its encoded image is the first buffer.
 * @typedef {object} FrameMessage
 * @property {"frame"} type
 * @property {number} id
 * @property {number} seq
 * @property {number|null} index
 * @property {boolean} code   the frame carries the frame-index code (covered unless shown)
 * @property {string|null} track
 * @property {number} width
 * @property {number} height
 * @property {string} mime
 * @property {number} quality
 * @property {number} scale
 * @property {boolean} still
 * @property {number} sent_at  wall clock ms
 */

/**
 * The answer to a command message; `reply` is the model's answer when it came in time.
 * @typedef {object} CommandResult
 * @property {"command_result"} type
 * @property {string} id
 * @property {string|null} name
 * @property {boolean} ok
 * @property {CommandError|null} error
 * @property {{type: string, data: *}} [reply]
 */

/** @typedef {{type: "retry_result", ok: boolean, message: string|null}} RetryResult */
/** @typedef {{type: "webcam_state", active: boolean, error: string|null, track?: string|null}} WebcamState */
/** @typedef {{type: "webcam_ack", id: number, error: string|null}} WebcamAck */
/** @typedef {FrameMessage|CommandResult|RetryResult|WebcamState|WebcamAck} KernelMessage */

export {};
