/// How a command presents itself: its name, its help text and, for a group, the subcommands it routes to.
///
/// A command with subcommands is a *group*: it never runs itself. Invoked without a subcommand it prints its
/// help to the error output and exits with `ExitCode.usage`, unless it names a `defaultSubcommand`.
public struct CommandConfiguration: Sendable {
    /// The word that invokes the command, e.g. `issue` in `symbolon ca issue`.
    public var commandName: String
    /// One line saying what the command does; shown in OVERVIEW and in the parent's SUBCOMMANDS list.
    public var abstract: String
    /// Longer help shown after the abstract; line breaks are kept and long lines are wrapped.
    public var discussion: String
    /// The commands reachable by name below this one, in the order the help lists them.
    public var subcommands: [any Command.Type]
    /// The subcommand that runs when a group is given no subcommand name (nothing, or only options).
    ///
    /// A bare word after the group is always taken as a subcommand name, so positional arguments of the
    /// default subcommand can only be given after naming it.
    public var defaultSubcommand: (any Command.Type)?

    /// Creates a configuration; only the name is required.
    public init(
        commandName: String,
        abstract: String = "",
        discussion: String = "",
        subcommands: [any Command.Type] = [],
        defaultSubcommand: (any Command.Type)? = nil
    ) {
        self.commandName = commandName
        self.abstract = abstract
        self.discussion = discussion
        self.subcommands = subcommands
        self.defaultSubcommand = defaultSubcommand
    }

    /// Whether the command routes to subcommands instead of running itself.
    public var isGroup: Bool { !subcommands.isEmpty }
}
